//! Keeping the search index in step with the database, which stays the source of truth.
//!
//! At startup the index is opened (`search::SearchIndex::open`: a lost, corrupt or foreign
//! index is wiped) and compared with the archive: built from empty when it is new, was built
//! from another archive, is ahead of the change log, or disagrees with the release count after
//! catching up; otherwise it catches up from the change-log position its last commit records,
//! so a restart with nothing changed rebuilds nothing. Then one task follows the change log:
//! on every `archive_changed` notification that logged release changes (and every second
//! where there are none to hear: SQLite, or while the listener is down), it reads the changes
//! after its position, the releases they concern, and commits them to the index in one go.
//!
//! `SearchFreshness` tells the response cache whether the index has caught up with every change
//! heard of: an answer is only kept if it was when the request started.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use search::{IndexState, IndexedRelease, Indexer, Opened, SearchIndex};
use uuid::Uuid;

use model::entity::release_change::ChangeKind;

use crate::ops::archive_changes::ArchiveChanges;
use crate::ops::config::SearchLocation;
use crate::store::Store;
use crate::store::search::{Generation, SearchEngine};

/// Releases read per statement while building.
const BUILD_CHUNK: u64 = 5_000;
/// Changes applied per commit while catching up.
const CHANGES_PER_COMMIT: u64 = 2_000;
/// How often the change log is read when no notification can say it grew.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Index(#[from] search::IndexError),
    #[error("reading the archive for the search index: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("a search index task stopped: {0}")]
    Task(String),
}

/// Whether the index shows every change the listener heard of.
#[derive(Debug, Clone, Default)]
pub struct SearchFreshness {
    /// The listener's `release_changes` counter that the index has caught up with.
    synced: Arc<AtomicU64>,
    changes: Option<ArchiveChanges>,
}

impl SearchFreshness {
    /// Whether every commit heard of so far is in the index.
    pub fn is_current(&self) -> bool {
        match &self.changes {
            Some(changes) => {
                self.synced.load(Ordering::Acquire) >= changes.watch().borrow().release_changes
            }
            None => true,
        }
    }
}

/// What starting the index did.
#[derive(Debug)]
pub struct SearchStart {
    /// What requests search with.
    pub engine: SearchEngine,
    /// What the response cache checks.
    pub freshness: SearchFreshness,
    /// Why the index was built from empty; `None` when it was reopened and caught up.
    pub built: Option<String>,
    /// Its directory; `None` in memory.
    pub directory: Option<PathBuf>,
}

/// Opens, checks and if needed builds the index, then starts following the change log.
pub async fn start(
    location: Option<SearchLocation>,
    rebuild: bool,
    store: Store,
    changes: Option<ArchiveChanges>,
) -> Result<SearchStart, SyncError> {
    let (opened, location) = tokio::task::spawn_blocking(move || open(location))
        .await
        .map_err(|error| SyncError::Task(error.to_string()))??;
    let shown = location
        .as_ref()
        .map_or_else(|| "memory".to_owned(), |path| path.display().to_string());
    if let Some(reason) = &opened.wiped {
        tracing::warn!(index = %shown, reason = %reason, "the search index could not be used: rebuilding it");
    }
    let freshness = SearchFreshness {
        synced: Arc::default(),
        changes: changes.clone(),
    };
    let index = opened.index.clone();
    let mut sync = Sync {
        indexer: Arc::new(Mutex::new(opened.indexer)),
        store,
        archive: String::new(),
        position: 0,
    };
    sync.archive = sync.store.archive_identity().await?;
    let latest = sync.store.latest_change().await?;
    let heard = changes
        .as_ref()
        .map(|changes| changes.watch().borrow().release_changes);
    let why_rebuild = match &opened.state {
        _ if rebuild => Some("--rebuild-search-index was given".to_owned()),
        None => Some(
            opened
                .wiped
                .clone()
                .unwrap_or_else(|| "there is no index yet".to_owned()),
        ),
        Some(state) if state.archive != sync.archive => Some(format!(
            "it was built from another archive ({})",
            state.archive
        )),
        Some(state) if state.position > latest => Some(format!(
            "it holds changes up to {} and the archive's change log ends at {latest}",
            state.position
        )),
        Some(_) => None,
    };
    let mut built = None;
    match (why_rebuild, &opened.state) {
        (None, Some(state)) => {
            sync.position = state.position;
            let started = Instant::now();
            let applied = sync.catch_up().await?;
            let (indexed, stored) = (index.len(), sync.store.release_count().await?);
            if indexed == stored {
                tracing::info!(index = %shown, releases = indexed, changes = applied, elapsed_ms = started.elapsed().as_millis() as u64, "search index reopened");
            } else {
                tracing::warn!(index = %shown, indexed, stored, "the search index does not hold every release: rebuilding it");
                sync.rebuild(&shown).await?;
                built = Some(format!(
                    "it held {indexed} releases and the archive {stored}"
                ));
            }
        }
        (why, _) => {
            let why = why.unwrap_or_else(|| "there is no index yet".to_owned());
            tracing::info!(index = %shown, reason = %why, "building the search index");
            sync.rebuild(&shown).await?;
            built = Some(why);
        }
    }
    if let Some(heard) = heard {
        freshness.synced.store(heard, Ordering::Release);
    }
    let generation: Option<Generation> = changes.clone().map(|changes| {
        Arc::new(move || changes.is_listening().then(|| changes.generation())) as Generation
    });
    let engine = SearchEngine::new(
        index,
        std::thread::available_parallelism().map_or(2, |n| n.get()),
        generation,
    );
    tokio::spawn(follow(
        sync,
        changes,
        freshness.synced.clone(),
        engine.lifetime(),
    ));
    Ok(SearchStart {
        engine,
        freshness,
        built,
        directory: location,
    })
}

/// Opens the index where `location` says: a directory given as it is; under a default base,
/// the first slot no other process holds.
fn open(location: Option<SearchLocation>) -> Result<(Opened, Option<PathBuf>), SyncError> {
    let Some(location) = location else {
        return Ok((SearchIndex::open(None)?, None));
    };
    if !location.slots {
        return Ok((
            SearchIndex::open(Some(&location.path))?,
            Some(location.path),
        ));
    }
    let mut slot = 0;
    loop {
        let path = location.path.join(format!("slot-{slot}"));
        match SearchIndex::open(Some(&path)) {
            Err(search::IndexError::Locked(_)) if slot < MAX_SLOTS => slot += 1,
            opened => return Ok((opened?, Some(path))),
        }
    }
}

/// Processes on one machine that can each take a default index directory of their own.
const MAX_SLOTS: usize = 64;

/// The index's writer and where it stands.
struct Sync {
    /// Used from blocking threads: commits write and sync files.
    indexer: Arc<Mutex<Indexer>>,
    store: Store,
    archive: String,
    position: i64,
}

impl Sync {
    fn state(&self) -> IndexState {
        IndexState {
            archive: self.archive.clone(),
            position: self.position,
        }
    }

    /// Builds the index from empty at the change log's current position, then applies what
    /// changed while it was built.
    async fn rebuild(&mut self, shown: &str) -> Result<(), SyncError> {
        let started = Instant::now();
        // Read first: every change after it is applied afterwards (applying one twice is
        // harmless: a release is replaced by what it is now).
        self.position = self.store.latest_change().await?;
        let state = self.state();
        // The build runs on a thread of its own, fed chunks as they are read.
        let (chunks, mut received) = tokio::sync::mpsc::channel::<Vec<IndexedRelease>>(2);
        let indexer = self.indexer.clone();
        let builder = tokio::task::spawn_blocking(move || -> Result<u64, SyncError> {
            let mut indexer = indexer
                .lock()
                .map_err(|_| SyncError::Task("the indexer is poisoned".to_owned()))?;
            let mut rebuild = indexer.rebuild()?;
            while let Some(chunk) = received.blocking_recv() {
                for release in &chunk {
                    rebuild.add(release)?;
                }
            }
            Ok(rebuild.finish(state)?)
        });
        let mut after: Option<Uuid> = None;
        let mut read = Ok(());
        loop {
            let chunk = match self.store.releases_to_index(after, BUILD_CHUNK).await {
                Ok(chunk) => chunk,
                Err(error) => {
                    read = Err(error);
                    break;
                }
            };
            let Some(last) = chunk.last() else { break };
            after = Some(last.id);
            if chunks.send(chunk).await.is_err() {
                // The builder stopped: its error is below.
                break;
            }
        }
        drop(chunks);
        let read_ms = started.elapsed().as_millis() as u64;
        read?;
        let added = builder
            .await
            .map_err(|error| SyncError::Task(error.to_string()))??;
        tracing::info!(index = %shown, releases = added, read_ms, elapsed_ms = started.elapsed().as_millis() as u64, "search index built");
        self.catch_up().await?;
        Ok(())
    }

    /// Applies every logged change after the index's position; returns how many.
    async fn catch_up(&mut self) -> Result<u64, SyncError> {
        let mut applied = 0;
        loop {
            let changes = self
                .store
                .changes_after(self.position, CHANGES_PER_COMMIT)
                .await?;
            let Some(last) = changes.last() else {
                return Ok(applied);
            };
            let last = last.seq;
            let mut ids: Vec<Uuid> = changes.iter().map(|change| change.release_id).collect();
            ids.sort_unstable();
            ids.dedup();
            let upserts: Vec<IndexedRelease> = self.store.releases_to_index_by_id(&ids).await?;
            // A release logged but gone (removed, or removed again later) leaves the index.
            let removed: Vec<Uuid> = ids
                .iter()
                .filter(|id| !upserts.iter().any(|release| release.id == **id))
                .copied()
                .collect();
            debug_assert!(
                changes
                    .iter()
                    .filter(|change| change.kind == ChangeKind::Removed)
                    .all(|change| removed.contains(&change.release_id)
                        || upserts.iter().any(|r| r.id == change.release_id))
            );
            self.position = last;
            let state = self.state();
            let indexer = self.indexer.clone();
            tokio::task::spawn_blocking(move || -> Result<(), SyncError> {
                let mut indexer = indexer
                    .lock()
                    .map_err(|_| SyncError::Task("the indexer is poisoned".to_owned()))?;
                Ok(indexer.apply(&upserts, &removed, state)?)
            })
            .await
            .map_err(|error| SyncError::Task(error.to_string()))??;
            applied += changes.len() as u64;
        }
    }
}

/// Follows the change log until the engine is dropped.
async fn follow(
    mut sync: Sync,
    changes: Option<ArchiveChanges>,
    synced: Arc<AtomicU64>,
    engine: Weak<()>,
) {
    let mut news = changes.as_ref().map(ArchiveChanges::watch);
    while engine.strong_count() > 0 {
        let heard = match &mut news {
            Some(news) => {
                let listening = news.borrow().listening;
                if listening {
                    // Wait for news, and read the log anyway now and then.
                    let _ = tokio::time::timeout(POLL_INTERVAL * 5, news.changed()).await;
                } else {
                    tokio::time::sleep(POLL_INTERVAL).await;
                }
                Some(news.borrow_and_update().release_changes)
            }
            None => {
                tokio::time::sleep(POLL_INTERVAL).await;
                None
            }
        };
        match sync.catch_up().await {
            Ok(_) => {
                if let Some(heard) = heard {
                    synced.fetch_max(heard, Ordering::AcqRel);
                }
            }
            Err(error) => {
                tracing::warn!(error = %crate::error::chain(&error), "the search index could not catch up with the archive: retrying");
                tokio::time::sleep(POLL_INTERVAL).await;
            }
        }
    }
}
