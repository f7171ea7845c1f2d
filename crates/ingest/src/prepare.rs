//! Everything ingest does before a row is written, in two passes so that memory stays flat
//! however large the input: [`scan`] reads, hashes and parses every listing (a bad file stops the
//! run before the database is touched) and notes where each release first appears; the loader
//! then pulls [`ReleaseSource::releases`], which reads the files again one at a time and yields
//! each release once, tagged.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
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

/// What a run loads: its files and its releases, each release once, in input order.
pub trait ReleaseSource {
    /// The listing files, with their hashes, for the run record.
    fn files(&self) -> &[ListingFile];
    /// How many distinct releases [`ReleaseSource::releases`] yields.
    fn release_count(&self) -> usize;
    /// Whether the input has the release `id` (what `--prune` keeps).
    fn contains(&self, id: &Uuid) -> bool;
    /// The releases, in input order, each once.
    fn releases(&self) -> Box<dyn Iterator<Item = Result<PreparedRelease, IngestError>> + '_>;
}

/// The whole input of one run held in memory: what tests build by hand and compare with.
#[derive(Debug, Default)]
pub struct PreparedInput {
    pub files: Vec<ListingFile>,
    pub releases: Vec<PreparedRelease>,
}

impl ReleaseSource for PreparedInput {
    fn files(&self) -> &[ListingFile] {
        &self.files
    }

    fn release_count(&self) -> usize {
        self.releases.len()
    }

    fn contains(&self, id: &Uuid) -> bool {
        self.releases.iter().any(|r| r.id == *id)
    }

    fn releases(&self) -> Box<dyn Iterator<Item = Result<PreparedRelease, IngestError>> + '_> {
        Box::new(self.releases.iter().cloned().map(Ok))
    }
}

/// Expands `paths` into listing files: a file is taken as given; a folder contributes its
/// `*.txt` files (not recursively), in name order so runs are reproducible.
pub fn find_listings(paths: &[PathBuf]) -> Result<Vec<PathBuf>, IngestError> {
    let read_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| IngestError::Read { path, source }
    };
    let mut listings = Vec::new();
    for path in paths {
        let metadata = fs::metadata(path).map_err(read_error(path))?;
        if metadata.is_dir() {
            let mut found = Vec::new();
            for entry in fs::read_dir(path).map_err(read_error(path))? {
                let file = entry.map_err(read_error(path))?.path();
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

/// Where a release is first listed: the file's index in the run, the item's index in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Occurrence {
    file: u32,
    item: u32,
}

/// The first pass over a run's listings: every file read, hashed and parsed, and for each
/// release where it first appears. Holds no release text, so a million releases take tens of
/// megabytes; [`ReleaseSource::releases`] reads the text again, file by file.
#[derive(Debug)]
pub struct ScannedInput<'a> {
    catalogue: &'a Catalogue,
    tagger: &'a Tagger,
    paths: Vec<PathBuf>,
    files: Vec<ListingFile>,
    first: HashMap<Uuid, Occurrence>,
    /// Tags of the later listings of a release that is listed more than once; they are merged
    /// into its first listing's tags.
    later_tags: HashMap<Uuid, ReleaseTags>,
}

/// Reads, hashes and parses every listing; fails on the first bad file, naming file and line.
pub fn scan<'a>(
    listings: &[PathBuf],
    catalogue: &'a Catalogue,
    tagger: &'a Tagger,
) -> Result<ScannedInput<'a>, IngestError> {
    let mut input = ScannedInput {
        catalogue,
        tagger,
        paths: listings.to_vec(),
        files: Vec::with_capacity(listings.len()),
        first: HashMap::new(),
        later_tags: HashMap::new(),
    };
    for (file, path) in listings.iter().enumerate() {
        let (sha256, releases) = read_listing(path)?;
        input.files.push(ListingFile {
            path: path.display().to_string(),
            sha256,
        });
        let publisher = catalogue.publisher_of(path);
        for (item, release) in releases.iter().enumerate() {
            let id = model::release_id(release.published_on, &release.title);
            let here = Occurrence {
                file: index(file),
                item: index(item),
            };
            if let Entry::Vacant(slot) = input.first.entry(id) {
                slot.insert(here);
                continue;
            }
            let tags = tagger.tag_release(&release.title, release.summary.as_deref(), publisher);
            match input.later_tags.get_mut(&id) {
                Some(merged) => merge_tags(merged, tags),
                None => {
                    input.later_tags.insert(id, tags);
                }
            }
        }
    }
    Ok(input)
}

/// Reads, parses and tags every listing into memory: [`scan`], then all its releases.
pub fn prepare(
    listings: &[PathBuf],
    catalogue: &Catalogue,
    tagger: &Tagger,
) -> Result<PreparedInput, IngestError> {
    let scanned = scan(listings, catalogue, tagger)?;
    Ok(PreparedInput {
        releases: scanned.releases().collect::<Result<_, _>>()?,
        files: scanned.files,
    })
}

/// Parses and tags listings held in memory, `(file name, bytes)`, as [`prepare`] does files:
/// each release once, in input order, with the tags of its later listings merged in.
pub fn prepare_in_memory(
    listings: &[(&str, &[u8])],
    catalogue: &Catalogue,
    tagger: &Tagger,
) -> Result<PreparedInput, IngestError> {
    let mut input = PreparedInput::default();
    let mut position: HashMap<Uuid, usize> = HashMap::new();
    for &(name, bytes) in listings {
        let path = Path::new(name);
        input.files.push(ListingFile {
            path: name.to_owned(),
            sha256: format!("{:x}", Sha256::digest(bytes)),
        });
        let publisher = catalogue.publisher_of(path);
        for release in parse_listing(path, bytes)? {
            let id = model::release_id(release.published_on, &release.title);
            let tags = tagger.tag_release(&release.title, release.summary.as_deref(), publisher);
            match position.entry(id) {
                Entry::Occupied(at) => {
                    if let Some(first) = input.releases.get_mut(*at.get()) {
                        merge_tags(&mut first.tags, tags);
                    }
                }
                Entry::Vacant(slot) => {
                    slot.insert(input.releases.len());
                    input.releases.push(PreparedRelease {
                        id,
                        release,
                        tags,
                        source_file: name.to_owned(),
                    });
                }
            }
        }
    }
    Ok(input)
}

impl ReleaseSource for ScannedInput<'_> {
    fn files(&self) -> &[ListingFile] {
        &self.files
    }

    fn release_count(&self) -> usize {
        self.first.len()
    }

    fn contains(&self, id: &Uuid) -> bool {
        self.first.contains_key(id)
    }

    fn releases(&self) -> Box<dyn Iterator<Item = Result<PreparedRelease, IngestError>> + '_> {
        Box::new(
            self.paths
                .iter()
                .enumerate()
                .map(|(file, path)| self.reread(file, path))
                .flat_map(|file| match file {
                    Ok(releases) => releases.into_iter().map(Ok).collect::<Vec<_>>(),
                    Err(error) => vec![Err(error)],
                }),
        )
    }
}

impl ScannedInput<'_> {
    /// The releases first listed in file number `file`, tagged, after checking that the file
    /// still has the bytes the scan read.
    fn reread(&self, file: usize, path: &Path) -> Result<Vec<PreparedRelease>, IngestError> {
        let (sha256, bytes) = read_bytes(path)?;
        // Compared before parsing: whatever the new text says, it was never validated.
        if self.files.get(file).is_none_or(|f| f.sha256 != sha256) {
            return Err(IngestError::Changed {
                path: path.to_path_buf(),
            });
        }
        let releases = parse_listing(path, &bytes)?;
        let publisher = self.catalogue.publisher_of(path);
        let source_file = file_name(path);
        let mut prepared = Vec::with_capacity(releases.len());
        for (item, release) in releases.into_iter().enumerate() {
            let id = model::release_id(release.published_on, &release.title);
            let here = Occurrence {
                file: index(file),
                item: index(item),
            };
            if self.first.get(&id) != Some(&here) {
                continue;
            }
            let mut tags =
                self.tagger
                    .tag_release(&release.title, release.summary.as_deref(), publisher);
            if let Some(later) = self.later_tags.get(&id) {
                merge_tags(&mut tags, later.clone());
            }
            prepared.push(PreparedRelease {
                id,
                release,
                tags,
                source_file: source_file.clone(),
            });
        }
        Ok(prepared)
    }
}

/// The sha256 and the parsed releases of one listing file.
fn read_listing(path: &Path) -> Result<(String, Vec<ParsedRelease>), IngestError> {
    let (sha256, bytes) = read_bytes(path)?;
    Ok((sha256, parse_listing(path, &bytes)?))
}

/// The sha256 and the bytes of one listing file.
fn read_bytes(path: &Path) -> Result<(String, Vec<u8>), IngestError> {
    let bytes = fs::read(path).map_err(|source| IngestError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok((format!("{:x}", Sha256::digest(&bytes)), bytes))
}

/// Positions are counted in `u32`: a listing of four billion items is not a press archive.
fn index(position: usize) -> u32 {
    u32::try_from(position).unwrap_or(u32::MAX)
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
