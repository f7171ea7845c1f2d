//! Why the index could not be opened, read or written.

use std::path::PathBuf;

use tantivy::TantivyError;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(
        "the search index at {0} is in use by another process: give each api process its own \
         --search-index-dir"
    )]
    Locked(PathBuf),
    #[error(
        "{0} is not a search index and not empty: give an empty or new directory as \
         --search-index-dir"
    )]
    NotAnIndex(PathBuf),
    #[error("cannot use the search index directory {path}: {source}")]
    Directory {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("search index: {0}")]
    Tantivy(#[from] TantivyError),
    #[error("search index: {0}")]
    Io(#[from] std::io::Error),
    #[error("a search index task failed: {0}")]
    Task(String),
}
