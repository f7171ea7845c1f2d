//! Answers a repeated query from memory. An answer is kept under the exact request that asked
//! for it until the archive changes: PostgreSQL notifies `archive_changed` when a write commits
//! (a trigger on every table the API reads), and the process's one listener
//! (`ops::archive_changes`) starts a new generation, under which no older answer is served.
//! Nothing is cached while that listener is not connected, so SQLite, which cannot notify,
//! never caches. An answer read from a replica is kept only if the replica had replayed the
//! primary's WAL position read after the last notification: no kept answer is older than the
//! last change announced.

use std::fmt;
use std::sync::{Arc, Weak};

use axum::body::Bytes;
use quick_cache::Weighter;
use quick_cache::sync::Cache;

use crate::ops::archive_changes::ArchiveChanges;
use crate::ops::metrics::CacheUsage;
use crate::ops::read_routing::ReadTarget;
use crate::ops::wal_position::WalPosition;
/// Answers larger than this share of the capacity are not kept: one would evict many.
const LARGEST_SHARE: u64 = 16;
/// What an entry costs beyond its bytes (key, headers, bookkeeping), for the weight.
const ENTRY_OVERHEAD: u64 = 256;

/// Which request an answer belongs to: the request's bytes as received (the JSON body of a
/// POST, the query string of a GET) and everything else that shapes the answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    pub request: Bytes,
    pub get: bool,
    /// The response media type, as the content type sent.
    pub media: &'static str,
    pub report_cost: bool,
}

/// A response worth repeating: a query answered without errors (status 200).
#[derive(Debug)]
pub struct CachedAnswer {
    pub body: Bytes,
    pub operation: Option<String>,
    /// The validator of a GET answer, computed once.
    pub etag: Option<String>,
}

/// Proof of the archive's state when a request started; an answer computed under an older
/// state is not stored, nor one read from a replica that had not replayed the primary's WAL
/// position read after the last notification (`position`).
#[derive(Debug, Clone, Copy)]
pub struct Ticket {
    generation: u64,
    position: Option<WalPosition>,
}

#[derive(Clone)]
struct Entry {
    generation: u64,
    answer: Arc<CachedAnswer>,
}

#[derive(Clone)]
struct EntryWeight;

impl Weighter<CacheKey, Entry> for EntryWeight {
    fn weight(&self, key: &CacheKey, entry: &Entry) -> u64 {
        (key.request.len() + entry.answer.body.len()) as u64 + ENTRY_OVERHEAD
    }
}

struct Inner {
    entries: Cache<CacheKey, Entry, EntryWeight>,
    largest: u64,
    /// Its generation moves on every change notification and whenever notifications may have
    /// been missed; an entry of an older generation is never served.
    changes: ArchiveChanges,
}

/// The answers of one server; cloning shares them.
#[derive(Clone)]
pub struct ResponseCache {
    inner: Arc<Inner>,
}

impl fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseCache")
            .field("bytes", &self.inner.entries.weight())
            .field("listening", &self.inner.changes.is_listening())
            .finish_non_exhaustive()
    }
}

impl ResponseCache {
    /// A cache of at most `capacity_bytes` that follows `changes`, or `None` when the capacity
    /// is zero. Starts empty and stores nothing while the listener is not connected.
    pub fn new(changes: &ArchiveChanges, capacity_bytes: u64) -> Option<ResponseCache> {
        if capacity_bytes == 0 {
            return None;
        }
        let estimated_items = usize::try_from(capacity_bytes / 4096).unwrap_or(usize::MAX);
        let cache = ResponseCache {
            inner: Arc::new(Inner {
                entries: Cache::with_weighter(estimated_items.max(16), capacity_bytes, EntryWeight),
                largest: capacity_bytes / LARGEST_SHARE,
                changes: changes.clone(),
            }),
        };
        tokio::spawn(drop_old_answers(Arc::downgrade(&cache.inner)));
        Some(cache)
    }

    /// The stored answer to `key`, if the archive has not changed since it was computed.
    pub fn get(&self, key: &CacheKey) -> Option<Arc<CachedAnswer>> {
        if !self.inner.changes.is_listening() {
            return None;
        }
        let entry = self.inner.entries.get(key)?;
        (entry.generation == self.inner.changes.generation()).then_some(entry.answer)
    }

    /// Taken before a request runs (and before its database is chosen); `None` while changes
    /// would go unheard.
    pub fn ticket(&self) -> Option<Ticket> {
        let (generation, position) = self.inner.changes.notified_position();
        self.inner.changes.is_listening().then_some(Ticket {
            generation,
            position,
        })
    }

    /// Keeps `answer` for `key`, unless the archive changed since `ticket` was taken (the
    /// answer may show the old state), the answer was read from a replica that did not yet
    /// show the last notified change, or the answer is too large.
    pub fn put(&self, ticket: Ticket, key: CacheKey, answer: CachedAnswer, read: &ReadTarget) {
        if !read.shows(ticket.position) {
            return;
        }
        let entry = Entry {
            generation: ticket.generation,
            answer: Arc::new(answer),
        };
        if EntryWeight.weight(&key, &entry) > self.inner.largest {
            return;
        }
        // An invalidation between this check and the insert leaves an entry of an old
        // generation behind, which `get` never returns.
        if self.inner.changes.generation() == ticket.generation {
            self.inner.entries.insert(key, entry);
        }
    }

    /// Whether changes are being followed (and answers therefore kept).
    pub fn is_listening(&self) -> bool {
        self.inner.changes.is_listening()
    }

    /// What the cache holds now, for `/metrics`.
    pub fn usage(&self) -> CacheUsage {
        CacheUsage {
            entries: self.inner.entries.len() as u64,
            bytes: self.inner.entries.weight(),
            capacity_bytes: self.inner.entries.capacity(),
            listening: self.is_listening(),
        }
    }
}

/// Frees the memory of answers that can no longer be served, on every change of generation,
/// until the cache is dropped. (Correctness does not wait for this: `get` compares
/// generations.)
async fn drop_old_answers(inner: Weak<Inner>) {
    let Some(mut news) = inner.upgrade().map(|inner| inner.changes.watch()) else {
        return;
    };
    while news.changed().await.is_ok() {
        match inner.upgrade() {
            Some(inner) => inner.entries.clear(),
            None => return,
        }
    }
}
