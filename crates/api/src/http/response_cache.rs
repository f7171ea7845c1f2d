//! Answers a repeated query from memory. An answer is kept under the exact request that asked
//! for it until the archive changes: PostgreSQL notifies `archive_changed` when a write commits
//! (a trigger on every table the API reads) and a listener here drops every answer. Nothing is
//! cached while that listener is not connected, so SQLite, which cannot notify, never caches.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::body::Bytes;
use migration::ARCHIVE_CHANGED_CHANNEL;
use quick_cache::Weighter;
use quick_cache::sync::Cache;
use sea_orm::sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sea_orm::{DatabaseBackend, DatabaseConnection};

use crate::ops::metrics::CacheUsage;

/// Longest wait between attempts to reconnect the listener.
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(5);
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
/// state is not stored.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

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
    /// Bumped on every change notification and whenever notifications may have been missed.
    generation: AtomicU64,
    /// Whether the listener is connected, i.e. whether a change would be heard.
    listening: AtomicBool,
}

impl Inner {
    fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.clear();
    }
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
            .field("listening", &self.inner.listening.load(Ordering::Acquire))
            .finish_non_exhaustive()
    }
}

impl ResponseCache {
    /// A cache of at most `capacity_bytes` that follows the changes of `db`, or `None` where
    /// changes cannot be followed (any database but PostgreSQL) or the capacity is zero. Starts
    /// empty and stores nothing until the listener has connected.
    pub fn follow(db: &DatabaseConnection, capacity_bytes: u64) -> Option<ResponseCache> {
        if capacity_bytes == 0 || db.get_database_backend() != DatabaseBackend::Postgres {
            return None;
        }
        // A pool of its own: the listener holds its connection for good, which must not take
        // one from the requests.
        let options = db.get_postgres_connection_pool().connect_options();
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(MAX_RECONNECT_DELAY)
            .connect_lazy_with((*options).clone());
        let estimated_items = usize::try_from(capacity_bytes / 4096).unwrap_or(usize::MAX);
        let cache = ResponseCache {
            inner: Arc::new(Inner {
                entries: Cache::with_weighter(estimated_items.max(16), capacity_bytes, EntryWeight),
                largest: capacity_bytes / LARGEST_SHARE,
                generation: AtomicU64::new(0),
                listening: AtomicBool::new(false),
            }),
        };
        tokio::spawn(follow_changes(Arc::downgrade(&cache.inner), pool));
        Some(cache)
    }

    /// The stored answer to `key`, if the archive has not changed since it was computed.
    pub fn get(&self, key: &CacheKey) -> Option<Arc<CachedAnswer>> {
        if !self.inner.listening.load(Ordering::Acquire) {
            return None;
        }
        let entry = self.inner.entries.get(key)?;
        (entry.generation == self.inner.generation.load(Ordering::Acquire)).then_some(entry.answer)
    }

    /// Taken before a request runs; `None` while changes would go unheard.
    pub fn ticket(&self) -> Option<Ticket> {
        let generation = self.inner.generation.load(Ordering::Acquire);
        self.inner
            .listening
            .load(Ordering::Acquire)
            .then_some(Ticket(generation))
    }

    /// Keeps `answer` for `key`, unless the archive changed since `ticket` was taken (the
    /// answer may show the old state) or the answer is too large.
    pub fn put(&self, ticket: Ticket, key: CacheKey, answer: CachedAnswer) {
        let entry = Entry {
            generation: ticket.0,
            answer: Arc::new(answer),
        };
        if EntryWeight.weight(&key, &entry) > self.inner.largest {
            return;
        }
        // An invalidation between this check and the insert leaves an entry of an old
        // generation behind, which `get` never returns.
        if self.inner.generation.load(Ordering::Acquire) == ticket.0 {
            self.inner.entries.insert(key, entry);
        }
    }

    /// Whether changes are being followed (and answers therefore kept).
    pub fn is_listening(&self) -> bool {
        self.inner.listening.load(Ordering::Acquire)
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

/// Listens for `archive_changed` until the cache is dropped, dropping every answer on each
/// notification. While the connection is down nothing is served or stored, and every answer
/// is dropped again on reconnecting, since changes made meanwhile went unheard.
async fn follow_changes(inner: Weak<Inner>, pool: PgPool) {
    let mut delay = Duration::from_millis(100);
    loop {
        let mut listener = match listen(&pool).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, retry_in = ?delay, "response cache: cannot listen for archive changes; answers are not cached");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_RECONNECT_DELAY);
                if inner.strong_count() == 0 {
                    return;
                }
                continue;
            }
        };
        delay = Duration::from_millis(100);
        match inner.upgrade() {
            Some(inner) => {
                inner.invalidate();
                inner.listening.store(true, Ordering::Release);
            }
            None => return,
        }
        tracing::info!(
            channel = ARCHIVE_CHANGED_CHANNEL,
            "response cache: following archive changes"
        );
        loop {
            let received = listener.try_recv().await;
            let Some(inner) = inner.upgrade() else {
                return;
            };
            match received {
                Ok(Some(notification)) => {
                    tracing::debug!(
                        table = notification.payload(),
                        "response cache: archive changed"
                    );
                    inner.invalidate();
                }
                Ok(None) => {
                    inner.listening.store(false, Ordering::Release);
                    inner.invalidate();
                    tracing::warn!(
                        "response cache: the archive-change listener lost its connection; answers are not cached until it is back"
                    );
                    break;
                }
                Err(error) => {
                    inner.listening.store(false, Ordering::Release);
                    inner.invalidate();
                    tracing::warn!(%error, "response cache: the archive-change listener failed; answers are not cached until it is back");
                    break;
                }
            }
        }
    }
}

async fn listen(pool: &PgPool) -> Result<PgListener, sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    // A lost connection must be reported at once, not silently remade: changes made while it
    // was down went unheard.
    listener.eager_reconnect(false);
    listener.listen(ARCHIVE_CHANGED_CHANNEL).await?;
    Ok(listener)
}
