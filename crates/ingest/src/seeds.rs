//! The seed archive built into the binaries: the catalogue and the two listings of the
//! repository's `seeds/`, embedded at compile time, so that `api` and `ingest` serve and load
//! the same 40 releases from whatever directory they are started in.

use std::path::Path;

use crate::IngestError;
use crate::catalogue::{Catalogue, CatalogueError};
use crate::prepare::{self, PreparedInput};
use crate::tag::Tagger;

/// How the built-in catalogue is named in messages (it can only fail if the build is broken).
pub const CATALOGUE_ORIGIN: &str = "seeds/catalogue.toml (built in)";

const CATALOGUE: &str = include_str!("../../../seeds/catalogue.toml");

/// The seed listings, by file name: the name picks the publishing office in the catalogue.
const LISTINGS: [(&str, &[u8]); 2] = [
    (
        "ilo-beijing-press-releases-2016-2017.txt",
        include_bytes!("../../../seeds/ilo-beijing-press-releases-2016-2017.txt"),
    ),
    (
        "ilo-beijing-press-releases-2020-2021.txt",
        include_bytes!("../../../seeds/ilo-beijing-press-releases-2020-2021.txt"),
    ),
];

/// The built-in catalogue.
pub fn catalogue() -> Result<Catalogue, CatalogueError> {
    Catalogue::from_toml_str(CATALOGUE, Path::new(CATALOGUE_ORIGIN))
}

/// The built-in listings, parsed and tagged with `catalogue`.
pub fn listings(catalogue: &Catalogue, tagger: &Tagger) -> Result<PreparedInput, IngestError> {
    prepare::prepare_in_memory(&LISTINGS, catalogue, tagger)
}
