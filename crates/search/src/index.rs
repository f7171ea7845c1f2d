//! The index on disk (or in memory): opening it, checking it, writing to it, and the snapshot
//! every search reads.
//!
//! The read side (`SearchIndex`) is shared by every request; the write side (`Indexer`) has one
//! owner, the task that keeps the index in step with the database. Each commit carries the
//! `IndexState` it brings the index to (which archive, which position of its change log), so a
//! restart continues from there instead of rebuilding. An index that cannot be opened, fails
//! its checksums or has another schema is wiped and reported as empty: it is rebuilt, never
//! served.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use tantivy::directory::error::LockError;
use tantivy::index::SegmentId;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, TantivyError, Term};
use uuid::Uuid;

pub use crate::error::IndexError;
use crate::fields::{Fields, TITLE_WEIGHT, register_tokenizers};
use crate::language::SearchQuery;
use crate::matches::{BufferPool, Filter, Matches};
use crate::resolve::Resolved;
use crate::segment_table::SegmentTable;
pub use crate::snapshot::IndexState;
use crate::snapshot::Snapshot;
use crate::suggest::WordSuggestion;

/// Version of what the index holds and how; an index of another version is rebuilt.
const FORMAT: u32 = 2;

/// Memory of the writer that applies changes as they are logged.
const UPDATE_WRITER_BYTES: usize = 20_000_000;
/// Memory per thread of the writer that builds the index from empty.
const BUILD_WRITER_BYTES_PER_THREAD: usize = 100_000_000;

/// What the index knows of a release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedRelease {
    pub id: Uuid,
    pub title: String,
    pub summary: String,
    pub published_on: NaiveDate,
    pub programmes: Vec<i32>,
    pub offices: Vec<i32>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    format: u32,
    #[serde(flatten)]
    state: IndexState,
}

/// What opening found.
pub struct Opened {
    pub index: SearchIndex,
    pub indexer: Indexer,
    /// Where the index stands; `None` when it was created empty, or wiped because it could not
    /// be used (`wiped` says why).
    pub state: Option<IndexState>,
    pub wiped: Option<String>,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("state", &self.state)
            .field("wiped", &self.wiped)
            .finish_non_exhaustive()
    }
}

/// The read side of the index, shared by every request.
#[derive(Clone)]
pub struct SearchIndex {
    inner: Arc<Inner>,
}

struct Inner {
    index: Index,
    fields: Fields,
    reader: IndexReader,
    snapshot: RwLock<Arc<Snapshot>>,
    buffers: Arc<BufferPool>,
    /// The directory's lock, held for the life of the index: no other process checks, wipes
    /// or writes it meanwhile.
    _lock: Option<std::fs::File>,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("releases", &self.len())
            .field("state", &self.state())
            .finish()
    }
}

impl SearchIndex {
    /// Opens the index in `directory` (created if missing), or a new one in memory. An index
    /// that cannot be used is wiped and opened empty; a directory holding anything but an
    /// index is refused.
    pub fn open(directory: Option<&Path>) -> Result<Opened, IndexError> {
        let lock = directory.map(lock_directory).transpose()?;
        let (index, state, wiped) = match directory {
            None => (Index::create_in_ram(Fields::schema().0), None, None),
            Some(path) => open_directory(path)?,
        };
        register_tokenizers(&index);
        let fields = Fields::of(&index).ok_or_else(|| {
            IndexError::Task("the index's schema changed while it was opened".to_owned())
        })?;
        let writer = update_writer(&index, directory)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let searcher = reader.searcher();
        let snapshot = Snapshot::load(searcher, &HashMap::new(), state.clone(), fields)?;
        let index = SearchIndex {
            inner: Arc::new(Inner {
                index,
                fields,
                reader,
                snapshot: RwLock::new(Arc::new(snapshot)),
                buffers: Arc::default(),
                _lock: lock,
            }),
        };
        let indexer = Indexer {
            index: index.clone(),
            writer: Some(writer),
            directory: directory.map(Path::to_path_buf),
        };
        Ok(Opened {
            index,
            indexer,
            state,
            wiped,
        })
    }

    /// Where the index stands, as of the snapshot searches read now.
    pub fn state(&self) -> Option<IndexState> {
        self.snapshot().state.clone()
    }

    /// Releases in the index.
    pub fn len(&self) -> u64 {
        self.snapshot().searcher.num_docs()
    }

    /// Whether the index holds no release.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Resolves `query` against the index's vocabulary.
    pub fn resolve(&self, query: &SearchQuery) -> Resolved {
        Resolved::resolve(query, self.snapshot().as_ref())
    }

    /// The releases `query` matches published within `from..=to`, with their scores.
    /// CPU-bound: a few milliseconds per hundred thousand matches.
    pub fn matches(
        &self,
        query: &SearchQuery,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Matches, IndexError> {
        crate::matches::gather(self.snapshot(), self.inner.buffers.clone(), query, from, to)
    }

    /// At most `first` completions of the word `text` ends with, most releases first (ties
    /// alphabetical), each counted under `filter`; empty when the text does not end with a
    /// plain word.
    pub fn suggest(
        &self,
        text: &str,
        query: &SearchQuery,
        filter: &Filter,
        first: usize,
    ) -> Result<Vec<WordSuggestion>, IndexError> {
        crate::suggest::suggest(&self.snapshot(), text, query, filter, first)
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        match self.inner.snapshot.read() {
            Ok(snapshot) => snapshot.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Makes the last commit visible to searches, with the state it brought the index to.
    fn refresh(&self, state: IndexState) -> Result<(), IndexError> {
        self.inner.reader.reload()?;
        let searcher = self.inner.reader.searcher();
        let previous = self.snapshot();
        let known: HashMap<SegmentId, Arc<SegmentTable>> = previous
            .searcher
            .segment_readers()
            .iter()
            .map(|reader| reader.segment_id())
            .zip(previous.tables.iter().cloned())
            .collect();
        let snapshot = Snapshot::load(searcher, &known, Some(state), self.inner.fields)?;
        match self.inner.snapshot.write() {
            Ok(mut slot) => *slot = Arc::new(snapshot),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(snapshot),
        }
        Ok(())
    }

    /// Bytes the index takes on disk (0 in memory).
    pub fn disk_bytes(&self) -> u64 {
        let snapshot = self.snapshot();
        snapshot
            .searcher
            .segment_readers()
            .iter()
            .filter_map(|reader| reader.space_usage().ok())
            .map(|usage| usage.total().get_bytes())
            .sum()
    }
}

/// The write side: one owner applies changes and rebuilds.
pub struct Indexer {
    index: SearchIndex,
    /// `None` only while a rebuild holds the index's one writer.
    writer: Option<IndexWriter>,
    directory: Option<PathBuf>,
}

impl std::fmt::Debug for Indexer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Indexer")
            .field("directory", &self.directory)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Rebuild<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rebuild")
            .field("added", &self.added)
            .finish_non_exhaustive()
    }
}

/// An index being built from empty: add every release, then `finish`. Searches keep reading
/// the previous commit until then.
pub struct Rebuild<'a> {
    indexer: &'a mut Indexer,
    writer: IndexWriter,
    added: u64,
}

impl Indexer {
    /// Starts building the index from empty (the previous content stays searchable until
    /// [`Rebuild::finish`]).
    pub fn rebuild(&mut self) -> Result<Rebuild<'_>, IndexError> {
        // The index has one writer: the updating one is put down while the build runs.
        if let Some(writer) = self.writer.take() {
            writer.wait_merging_threads()?;
        }
        let index = &self.index.inner.index;
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 4);
        let writer = index
            .writer_with_num_threads(threads, threads * BUILD_WRITER_BYTES_PER_THREAD)
            .map_err(|error| locked(error, self.directory.as_deref()))?;
        writer.delete_all_documents()?;
        Ok(Rebuild {
            indexer: self,
            writer,
            added: 0,
        })
    }

    /// Brings the index to `state`: removes `removed` and every release of `upserts` as it
    /// was, adds `upserts` as they are, in one commit, then makes it visible to searches.
    pub fn apply(
        &mut self,
        upserts: &[IndexedRelease],
        removed: &[Uuid],
        state: IndexState,
    ) -> Result<(), IndexError> {
        let fields = self.index.inner.fields;
        let writer = match self.writer.as_mut() {
            Some(writer) => writer,
            None => {
                let writer = update_writer(&self.index.inner.index, self.directory.as_deref())?;
                self.writer.insert(writer)
            }
        };
        for id in removed
            .iter()
            .chain(upserts.iter().map(|release| &release.id))
        {
            writer.delete_term(Term::from_field_text(fields.id, &id.to_string()));
        }
        for release in upserts {
            writer.add_document(document(&fields, release))?;
        }
        commit(writer, &state)?;
        self.index.refresh(state)
    }

    pub fn index(&self) -> &SearchIndex {
        &self.index
    }
}

impl Rebuild<'_> {
    pub fn add(&mut self, release: &IndexedRelease) -> Result<(), IndexError> {
        self.writer
            .add_document(document(&self.indexer.index.inner.fields, release))?;
        self.added += 1;
        Ok(())
    }

    /// Commits the new content at `state` and makes it visible, once the merges the build
    /// started are done. Returns the releases added.
    pub fn finish(mut self, state: IndexState) -> Result<u64, IndexError> {
        commit(&mut self.writer, &state)?;
        self.writer.wait_merging_threads()?;
        let index = &self.indexer.index;
        index.refresh(state)?;
        self.indexer.writer = Some(update_writer(
            &index.inner.index,
            self.indexer.directory.as_deref(),
        )?);
        Ok(self.added)
    }
}

fn commit(writer: &mut IndexWriter, state: &IndexState) -> Result<(), IndexError> {
    let payload = serde_json::to_string(&Payload {
        format: FORMAT,
        state: state.clone(),
    })
    .map_err(|error| IndexError::Task(error.to_string()))?;
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&payload);
    prepared.commit()?;
    Ok(())
}

fn update_writer(index: &Index, directory: Option<&Path>) -> Result<IndexWriter, IndexError> {
    index
        .writer_with_num_threads(1, UPDATE_WRITER_BYTES)
        .map_err(|error| locked(error, directory))
}

fn locked(error: TantivyError, directory: Option<&Path>) -> IndexError {
    match (&error, directory) {
        (TantivyError::LockFailure(LockError::LockBusy, _), Some(path)) => {
            IndexError::Locked(path.to_path_buf())
        }
        _ => IndexError::Tantivy(error),
    }
}

fn document(fields: &Fields, release: &IndexedRelease) -> TantivyDocument {
    let mut document = TantivyDocument::default();
    document.add_text(fields.id, release.id.to_string());
    for _ in 0..TITLE_WEIGHT {
        document.add_text(fields.text, &release.title);
    }
    document.add_text(fields.text, &release.summary);
    document.add_text(fields.title, &release.title);
    document.add_text(fields.summary, &release.summary);
    document.add_text(fields.words, &release.title);
    document.add_text(fields.words, &release.summary);
    document.add_u64(
        fields.day,
        u64::try_from(release.published_on.num_days_from_ce()).unwrap_or(0),
    );
    let id = release.id.as_u128();
    document.add_u64(fields.id_hi, (id >> 64) as u64);
    document.add_u64(fields.id_lo, id as u64);
    for programme in &release.programmes {
        document.add_u64(fields.programme, u64::try_from(*programme).unwrap_or(0));
    }
    for office in &release.offices {
        document.add_u64(fields.office, u64::try_from(*office).unwrap_or(0));
    }
    document
}

/// The name of the lock file each process holds in its index directory.
const LOCK_FILE: &str = "pressroom-search.lock";

/// Creates `path` if needed and locks it for this process.
fn lock_directory(path: &Path) -> Result<std::fs::File, IndexError> {
    let directory_error = |source| IndexError::Directory {
        path: path.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(path).map_err(directory_error)?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path.join(LOCK_FILE))
        .map_err(directory_error)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(IndexError::Locked(path.to_path_buf())),
        Err(std::fs::TryLockError::Error(source)) => Err(directory_error(source)),
    }
}

/// Opens the index in `path`, or creates it; wipes one that cannot be used.
fn open_directory(path: &Path) -> Result<(Index, Option<IndexState>, Option<String>), IndexError> {
    let directory_error = |source| IndexError::Directory {
        path: path.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(path).map_err(directory_error)?;
    let entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(directory_error)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|entry| !entry.ends_with(LOCK_FILE))
        .collect();
    if entries.is_empty() {
        let index = Index::create_in_dir(path, Fields::schema().0)?;
        return Ok((index, None, None));
    }
    if !path.join("meta.json").exists() && !path.join(".managed.json").exists() {
        return Err(IndexError::NotAnIndex(path.to_path_buf()));
    }
    let problem = match check(path) {
        Ok((index, state)) => return Ok((index, Some(state), None)),
        Err(problem) => problem,
    };
    for entry in entries {
        let removed = if entry.is_dir() {
            std::fs::remove_dir_all(&entry)
        } else {
            std::fs::remove_file(&entry)
        };
        removed.map_err(directory_error)?;
    }
    let index = Index::create_in_dir(path, Fields::schema().0)?;
    Ok((index, None, Some(problem)))
}

/// The index in `path` and its state, or why it cannot be served.
fn check(path: &Path) -> Result<(Index, IndexState), String> {
    let index =
        Index::open_in_dir(path).map_err(|error| format!("it cannot be opened: {error}"))?;
    if Fields::of(&index).is_none() {
        return Err("its schema is not this version's".to_owned());
    }
    let corrupted = index
        .validate_checksum()
        .map_err(|error| format!("its checksums cannot be read: {error}"))?;
    if !corrupted.is_empty() {
        let mut files: Vec<String> = corrupted
            .iter()
            .map(|file| file.display().to_string())
            .collect();
        files.sort();
        return Err(format!("corrupt files: {}", files.join(", ")));
    }
    let metas = index
        .load_metas()
        .map_err(|error| format!("its metadata cannot be read: {error}"))?;
    let payload: Payload = metas
        .payload
        .as_deref()
        .ok_or_else(|| "it was never committed with a state".to_owned())
        .and_then(|text| {
            serde_json::from_str(text).map_err(|error| format!("its state is unreadable: {error}"))
        })?;
    if payload.format != FORMAT {
        return Err(format!(
            "it is of format {}, this version writes {FORMAT}",
            payload.format
        ));
    }
    Ok((index, payload.state))
}
