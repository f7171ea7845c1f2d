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
pub mod seeds;
pub mod slug;
pub mod tag;

pub use load::{LoadOptions, LoadReport};
pub use prepare::ReleaseSource;
pub use progress::{NoProgress, Progress};

/// What a run reads.
#[derive(Debug, Clone, Copy)]
pub enum Listings<'a> {
    /// The seed listings built into the binary (see [`seeds`]).
    Seeds,
    /// Listing files, or folders whose `*.txt` files are listings.
    Paths(&'a [PathBuf]),
}

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

/// The catalogue at `path`, or the built-in one without a path.
pub fn load_catalogue(path: Option<&Path>) -> Result<catalogue::Catalogue, IngestError> {
    Ok(match path {
        Some(path) => catalogue::Catalogue::load(path)?,
        None => seeds::catalogue()?,
    })
}

/// Reads the catalogue (the built-in one without a path) and the listings, then loads them:
/// the whole pipeline of one run, as the API's startup uses it.
pub async fn ingest(
    db: &DatabaseConnection,
    catalogue_path: Option<&Path>,
    listings: Listings<'_>,
    options: LoadOptions,
    progress: &impl Progress,
) -> Result<LoadReport, IngestError> {
    let catalogue = load_catalogue(catalogue_path)?;
    let tagger = tag::Tagger::new(&catalogue)?;
    match listings {
        Listings::Seeds => {
            let input = seeds::listings(&catalogue, &tagger)?;
            load::load(db, &catalogue, &input, options, progress).await
        }
        Listings::Paths(paths) => {
            let files = prepare::find_listings(paths)?;
            let input = prepare::scan(&files, &catalogue, &tagger)?;
            load::load(db, &catalogue, &input, options, progress).await
        }
    }
}

/// [`ingest`] of the listings under `paths` with the catalogue at `catalogue_path`.
pub async fn ingest_paths(
    db: &DatabaseConnection,
    catalogue_path: &Path,
    paths: &[PathBuf],
    options: LoadOptions,
    progress: &impl Progress,
) -> Result<LoadReport, IngestError> {
    ingest(
        db,
        Some(catalogue_path),
        Listings::Paths(paths),
        options,
        progress,
    )
    .await
}

impl From<sea_orm::DbErr> for IngestError {
    fn from(error: sea_orm::DbErr) -> Self {
        IngestError::Load(load::LoadError::Database(error))
    }
}
