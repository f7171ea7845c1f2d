//! Turns press-release listings into rows of the archive: `parse` reads a listing file,
//! `tag` finds the programmes and offices each release concerns (from the `catalogue`),
//! `prepare` does both for a whole run, file by file, and `load` writes it to the database in
//! one transaction.

use std::path::{Path, PathBuf};

use sea_orm::DatabaseConnection;

pub mod catalogue;
pub mod counts;
pub mod generate;
pub mod load;
pub mod parse;
pub mod prepare;
pub mod progress;
pub mod slug;
pub mod tag;

pub use load::{LoadOptions, LoadReport};
pub use prepare::ReleaseSource;
pub use progress::{NoProgress, Progress};

/// Where the catalogue lives unless told otherwise.
pub const DEFAULT_CATALOGUE: &str = "seeds/catalogue.toml";
/// What is ingested when no path is given.
pub const DEFAULT_LISTINGS: &str = "seeds";

/// Anything that stops a run. Every variant names the file (and line, where there is one).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{} changed while it was being loaded: run again once nothing is writing to it",
        path.display()
    )]
    Changed { path: PathBuf },
    #[error("{}: no listing files (*.txt) in this folder", path.display())]
    NoListings { path: PathBuf },
    #[error(transparent)]
    Parse(#[from] parse::ParseError),
    #[error(transparent)]
    Catalogue(#[from] catalogue::CatalogueError),
    #[error("invalid alias in the catalogue")]
    Tagger(#[from] tag::TagError),
    #[error(transparent)]
    Load(#[from] load::LoadError),
}

/// Reads the catalogue and the listings under `paths`, then loads them: the whole pipeline of
/// one run, as the command line and the embedded API default both use it.
pub async fn ingest_paths(
    db: &DatabaseConnection,
    catalogue_path: &Path,
    paths: &[PathBuf],
    options: LoadOptions,
    progress: &impl Progress,
) -> Result<LoadReport, IngestError> {
    let catalogue = catalogue::Catalogue::load(catalogue_path)?;
    let tagger = tag::Tagger::new(&catalogue)?;
    let listings = prepare::find_listings(paths)?;
    let input = prepare::scan(&listings, &catalogue, &tagger)?;
    load::load(db, &catalogue, &input, options, progress).await
}

impl From<sea_orm::DbErr> for IngestError {
    fn from(error: sea_orm::DbErr) -> Self {
        IngestError::Load(load::LoadError::Database(error))
    }
}
