//! Everything ingest does before touching the database: find the listing files, read and hash
//! them, parse and tag every release, and merge a release that appears in several files.
//! Any error here stops the run before a single row is written.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::IngestError;
use crate::catalogue::Catalogue;
use crate::parse::{ParsedRelease, parse_listing};
use crate::tag::{ReleaseTags, Tag, Tagger};

/// A listing file that was read: where it is and the sha256 of its bytes.
#[derive(Debug, Clone, Serialize)]
pub struct ListingFile {
    pub path: String,
    pub sha256: String,
}

/// A release ready to load: parsed, identified and tagged.
#[derive(Debug, Clone)]
pub struct PreparedRelease {
    pub id: Uuid,
    pub release: ParsedRelease,
    pub tags: ReleaseTags,
    /// File name of the listing it was read from (the first one, when it is in several).
    pub source_file: String,
}

/// The whole input of one run.
#[derive(Debug, Default)]
pub struct PreparedInput {
    pub files: Vec<ListingFile>,
    pub releases: Vec<PreparedRelease>,
}

/// Expands `paths` into listing files: a file is taken as given; a folder contributes its
/// `*.txt` files (not recursively), in name order so runs are reproducible.
pub fn find_listings(paths: &[PathBuf]) -> Result<Vec<PathBuf>, IngestError> {
    let mut listings = Vec::new();
    for path in paths {
        let metadata = fs::metadata(path).map_err(|source| IngestError::Read {
            path: path.clone(),
            source,
        })?;
        if metadata.is_dir() {
            let entries = fs::read_dir(path).map_err(|source| IngestError::Read {
                path: path.clone(),
                source,
            })?;
            let mut found = Vec::new();
            for entry in entries {
                let entry = entry.map_err(|source| IngestError::Read {
                    path: path.clone(),
                    source,
                })?;
                let file = entry.path();
                if file.is_file() && file.extension().is_some_and(|ext| ext == "txt") {
                    found.push(file);
                }
            }
            if found.is_empty() {
                return Err(IngestError::NoListings { path: path.clone() });
            }
            found.sort();
            listings.extend(found);
        } else {
            listings.push(path.clone());
        }
    }
    Ok(listings)
}

/// Reads, parses and tags every listing. Fails on the first bad file, naming file and line.
pub fn prepare(
    listings: &[PathBuf],
    catalogue: &Catalogue,
    tagger: &Tagger,
) -> Result<PreparedInput, IngestError> {
    let mut input = PreparedInput::default();
    let mut position_of: HashMap<Uuid, usize> = HashMap::new();
    for path in listings {
        let bytes = fs::read(path).map_err(|source| IngestError::Read {
            path: path.clone(),
            source,
        })?;
        input.files.push(ListingFile {
            path: path.display().to_string(),
            sha256: format!("{:x}", Sha256::digest(&bytes)),
        });
        let publisher = catalogue.publisher_of(path);
        let source_file = file_name(path);
        for release in parse_listing(path, &bytes)? {
            let id = model::release_id(release.published_on, &release.title);
            let tags = tagger.tag_release(&release.title, release.summary.as_deref(), publisher);
            match position_of.get(&id) {
                Some(&at) => merge_tags(&mut input.releases[at].tags, tags),
                None => {
                    position_of.insert(id, input.releases.len());
                    input.releases.push(PreparedRelease {
                        id,
                        release,
                        tags,
                        source_file: source_file.clone(),
                    });
                }
            }
        }
    }
    Ok(input)
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    )
}

/// A release listed twice keeps its first reading and gains the tags of the second
/// (e.g. the offices that publish each listing).
fn merge_tags(into: &mut ReleaseTags, more: ReleaseTags) {
    fn merge(into: &mut Vec<Tag>, more: Vec<Tag>) {
        for tag in more {
            if !into.iter().any(|t| t.slug == tag.slug) {
                into.push(tag);
            }
        }
        into.sort_by(|a, b| a.slug.cmp(&b.slug));
    }
    merge(&mut into.programmes, more.programmes);
    merge(&mut into.offices, more.offices);
}
