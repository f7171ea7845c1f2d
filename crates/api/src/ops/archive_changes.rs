//! The one listener of an api process: a PostgreSQL connection kept listening on
//! `archive_changed`, whose news everything else shares (the response cache and the live
//! subscriptions). It says two things: a *generation*, bumped by every notification and
//! whenever notifications may have been missed (the connection was lost, or remade), and
//! whether it is listening now. A second counter moves only when a commit logged release
//! changes (the notification whose payload is `release_change`), or when such news may have
//! been missed: what the live feed reads on.
//!
//! SQLite has no notifications: there is no listener there, and `follow` gives `None`.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use migration::{ARCHIVE_CHANGED_CHANNEL, RELEASE_CHANGE_TABLE};
use sea_orm::sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sea_orm::{DatabaseBackend, DatabaseConnection};
use tokio::sync::watch;

/// Longest wait between attempts to reconnect the listener.
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(5);

/// What the listener knows, as published to whoever waits for news.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChangeNews {
    /// Bumped on every notification and every lost or remade connection.
    pub generation: u64,
    /// Bumped when a commit logged release changes, or such a commit may have gone unheard.
    pub release_changes: u64,
    /// Whether a change would be heard now.
    pub listening: bool,
}

struct Shared {
    /// Mirrors of the news, read without a lock on every request.
    generation: AtomicU64,
    listening: AtomicBool,
    news: watch::Sender<ChangeNews>,
}

impl Shared {
    /// Publishes a new state: the atomics first, so that anyone woken by the watch reads them
    /// at least as new.
    fn publish(&self, listening: bool, release_changes: bool) {
        self.news.send_modify(|news| {
            news.generation += 1;
            if release_changes {
                news.release_changes += 1;
            }
            news.listening = listening;
            self.generation.store(news.generation, Ordering::Release);
            self.listening.store(listening, Ordering::Release);
        });
    }
}

/// The archive-change listener of one process; cloning shares it. The listener stops when the
/// last clone is dropped.
#[derive(Clone)]
pub struct ArchiveChanges {
    shared: Arc<Shared>,
}

impl fmt::Debug for ArchiveChanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArchiveChanges")
            .field("generation", &self.generation())
            .field("listening", &self.is_listening())
            .finish()
    }
}

impl ArchiveChanges {
    /// Starts listening to the changes of `db` on a connection of its own, or `None` where
    /// changes cannot be followed (any database but PostgreSQL).
    pub fn follow(db: &DatabaseConnection) -> Option<ArchiveChanges> {
        if db.get_database_backend() != DatabaseBackend::Postgres {
            return None;
        }
        // A pool of its own: the listener holds its connection for good, which must not take
        // one from the requests.
        let options = db.get_postgres_connection_pool().connect_options();
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(MAX_RECONNECT_DELAY)
            .connect_lazy_with((*options).clone());
        let (news, _) = watch::channel(ChangeNews::default());
        let shared = Arc::new(Shared {
            generation: AtomicU64::new(0),
            listening: AtomicBool::new(false),
            news,
        });
        tokio::spawn(listen_for_changes(Arc::downgrade(&shared), pool));
        Some(ArchiveChanges { shared })
    }

    /// The current generation: equal to an earlier reading only if nothing was written, nor
    /// could have been unheard, in between.
    pub fn generation(&self) -> u64 {
        self.shared.generation.load(Ordering::Acquire)
    }

    /// Whether the listener is connected, i.e. whether a change would be heard.
    pub fn is_listening(&self) -> bool {
        self.shared.listening.load(Ordering::Acquire)
    }

    /// Wakes on every change of the news (several may be folded into one wake-up).
    pub fn watch(&self) -> watch::Receiver<ChangeNews> {
        self.shared.news.subscribe()
    }
}

/// Listens for `archive_changed` until every `ArchiveChanges` is dropped. A lost connection is
/// published at once (nothing is heard until it is back) and a new one too, since changes made
/// meanwhile went unheard.
async fn listen_for_changes(shared: std::sync::Weak<Shared>, pool: PgPool) {
    let mut delay = Duration::from_millis(100);
    loop {
        let mut listener = match listen(&pool).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, retry_in = ?delay, "cannot listen for archive changes: answers are not cached and live updates wait");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_RECONNECT_DELAY);
                if shared.strong_count() == 0 {
                    return;
                }
                continue;
            }
        };
        delay = Duration::from_millis(100);
        match shared.upgrade() {
            Some(shared) => shared.publish(true, true),
            None => return,
        }
        tracing::info!(
            channel = ARCHIVE_CHANGED_CHANNEL,
            "following archive changes"
        );
        loop {
            let received = listener.try_recv().await;
            let Some(shared) = shared.upgrade() else {
                return;
            };
            match received {
                Ok(Some(notification)) => {
                    tracing::debug!(table = notification.payload(), "archive changed");
                    shared.publish(true, notification.payload() == RELEASE_CHANGE_TABLE);
                }
                Ok(None) => {
                    shared.publish(false, true);
                    tracing::warn!(
                        "the archive-change listener lost its connection: answers are not cached, and live updates wait, until it is back"
                    );
                    break;
                }
                Err(error) => {
                    shared.publish(false, true);
                    tracing::warn!(%error, "the archive-change listener failed: answers are not cached, and live updates wait, until it is back");
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
