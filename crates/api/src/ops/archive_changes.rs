//! The one listener of an api process: a PostgreSQL connection kept listening on
//! `archive_changed`, whose news everything else shares (the response cache and the live
//! subscriptions). It says two things: a *generation*, bumped by every notification and
//! whenever notifications may have been missed (the connection was lost, or remade), and
//! whether it is listening now. A second counter moves only when a commit logged release
//! changes (the notification whose payload is `release_change`), or when such news may have
//! been missed: what the live feed reads on.
//!
//! With each new generation the listener reads the primary's WAL position
//! (`pg_current_wal_lsn()`), which is at or past the commit just announced: a replica that has
//! replayed that far shows the change (`notified_position`).
//!
//! SQLite has no notifications: there is no listener there, and `follow` gives `None`.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use migration::{ARCHIVE_CHANGED_CHANNEL, RELEASE_CHANGE_TABLE};
use sea_orm::sea_query::{Alias, Func, PostgresQueryBuilder, Query};
use sea_orm::sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use sea_orm::sqlx::{self, AssertSqlSafe};
use sea_orm::{DatabaseBackend, DatabaseConnection};
use tokio::sync::watch;

use crate::ops::wal_position::WalPosition;

/// How the listener's connection shows in `pg_stat_activity.application_name`.
pub const LISTENER_APPLICATION_NAME: &str = "pressroom-listener";

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
    /// The primary's WAL position read after the current generation began (0: not known).
    notified: AtomicU64,
    news: watch::Sender<ChangeNews>,
}

impl Shared {
    /// Publishes a new state: the atomics first, so that anyone woken by the watch reads them
    /// at least as new. The position of the previous generation is forgotten before the new
    /// generation shows, so nobody pairs the new generation with an older position.
    fn publish(&self, listening: bool, release_changes: bool) {
        self.notified.store(0, Ordering::Release);
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
        let options = db.get_postgres_connection_pool().connect_options();
        Some(ArchiveChanges::follow_at((*options).clone()))
    }

    /// [`ArchiveChanges::follow`] on a connection of its own to `options` (a direct connection to
    /// the primary when the requests go through a transaction pooler, where `LISTEN` does not
    /// work).
    pub fn follow_at(options: PgConnectOptions) -> ArchiveChanges {
        // A pool of its own: the listener holds its connection for good, which must not take
        // one from the requests.
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(MAX_RECONNECT_DELAY)
            .connect_lazy_with(options.application_name(LISTENER_APPLICATION_NAME));
        let (news, _) = watch::channel(ChangeNews::default());
        let shared = Arc::new(Shared {
            generation: AtomicU64::new(0),
            listening: AtomicBool::new(false),
            notified: AtomicU64::new(0),
            news,
        });
        tokio::spawn(listen_for_changes(Arc::downgrade(&shared), pool));
        ArchiveChanges { shared }
    }

    /// The current generation and the primary's WAL position read after it began, if read yet:
    /// a replica that has replayed that far shows every change announced so far. Taken in
    /// that order, the position is never older than the generation's.
    pub fn notified_position(&self) -> (u64, Option<WalPosition>) {
        let generation = self.generation();
        let position = self.shared.notified.load(Ordering::Acquire);
        (generation, (position != 0).then_some(WalPosition(position)))
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
            Some(shared) => {
                shared.publish(true, true);
                note_position(&shared, &mut listener).await;
            }
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
                    note_position(&shared, &mut listener).await;
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

/// Reads the primary's WAL position on the listener's connection (notifications arriving
/// meanwhile wait in its buffer) and records it for the current generation. When it cannot be
/// read, the generation has no position and no answer read from a replica is cached in it.
async fn note_position(shared: &Shared, listener: &mut PgListener) {
    let generation = shared.generation.load(Ordering::Acquire);
    let statement = Query::select()
        .expr(Func::cast_as(
            Func::cust(Alias::new("pg_current_wal_lsn")),
            Alias::new("text"),
        ))
        .to_string(PostgresQueryBuilder);
    let read = sqlx::query_scalar::<_, String>(AssertSqlSafe(statement))
        .fetch_one(&mut *listener)
        .await;
    match read.map(|text| text.parse::<WalPosition>()) {
        Ok(Ok(position)) => {
            // Only this task moves the generation, so it is still the one the position is for.
            if shared.generation.load(Ordering::Acquire) == generation {
                shared.notified.store(position.0, Ordering::Release);
            }
        }
        Ok(Err(error)) => tracing::warn!(%error, "cannot read the primary's WAL position"),
        Err(error) => tracing::warn!(%error, "cannot read the primary's WAL position"),
    }
}

async fn listen(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    // A lost connection must be reported at once, not silently remade: changes made while it
    // was down went unheard.
    listener.eager_reconnect(false);
    listener.listen(ARCHIVE_CHANGED_CHANNEL).await?;
    Ok(listener)
}
