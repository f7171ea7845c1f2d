//! Which database a read goes to. Without replicas, the primary (`DATABASE_URL`). With them
//! (`--replica-url`), the replicas in rotation in turn, and the primary only while none is.
//!
//! A replica is in rotation while its last check passed: it answered within the check timeout,
//! is a hot standby (`pg_is_in_recovery()`), replicates the primary's cluster and database
//! (system identifier and database name), has every migration this binary knows, and its lag
//! is under `--max-replica-lag-ms`. The lag is an upper bound on how stale its reads are: the
//! checker samples the primary's WAL position every round, and a replica that has replayed the
//! position the primary had at time `t`, but not the next sample's, lags at most `now - t`.
//! While the primary cannot be sampled, a replica's own apply delay stands in (the age of its
//! last replayed commit while it holds WAL not yet replayed). A replica that fails a check
//! leaves the rotation with a logged reason and comes back by itself once a check passes.
//!
//! Every read names its database ([`ReadTarget`]), so that a request broken by a replica's
//! connection can be run again elsewhere, and the response cache can tell whether the answer
//! shows the last change it was notified of ([`ReadTarget::shows`]).

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use migration::{Migrator, MigratorTrait};
use sea_orm::sea_query::{Alias, Expr, Func, PostgresQueryBuilder, Query, SelectStatement};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, QueryResult, Statement,
};
use tokio::sync::Notify;

use crate::ops::archive_changes::ArchiveChanges;
use crate::ops::wal_position::WalPosition;
use crate::store::search::SearchEngine;
use crate::store::{ReadConnection, Store};

/// The name of the primary in logs, `/readyz` and `/metrics`.
pub const PRIMARY: &str = "primary";

/// How replicas are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaSettings {
    /// Time between two checks of every replica.
    pub check_interval: Duration,
    /// A replica further behind the primary than this leaves the rotation.
    pub max_lag: Duration,
    /// A check that takes longer fails.
    pub check_timeout: Duration,
}

impl Default for ReplicaSettings {
    fn default() -> Self {
        ReplicaSettings {
            check_interval: Duration::from_secs(1),
            max_lag: Duration::from_secs(5),
            check_timeout: Duration::from_secs(2),
        }
    }
}

/// A read's database, chosen for one request: its store, its name, and for a replica how far
/// it had replayed the primary's log when chosen.
#[derive(Debug, Clone)]
pub struct ReadTarget {
    pub store: Store,
    database: Arc<Database>,
    /// `None`: the primary, which shows every committed change.
    replayed: Option<WalPosition>,
}

impl ReadTarget {
    /// `primary`, `replica-1`, …
    pub fn name(&self) -> &str {
        &self.database.name
    }

    pub fn is_replica(&self) -> bool {
        self.replayed.is_some()
    }

    /// Whether what is read here shows every change committed at or before `position` (the
    /// primary's WAL position when a change was notified; `None`: not known, which only the
    /// primary satisfies).
    pub fn shows(&self, position: Option<WalPosition>) -> bool {
        match (self.replayed, position) {
            (None, _) => true,
            (Some(replayed), Some(position)) => replayed >= position,
            (Some(_), None) => false,
        }
    }
}

/// One database reads can go to, and what it has done.
struct Database {
    name: Arc<str>,
    /// The URL without credentials.
    shown_url: String,
    store: Store,
    usage: Arc<StatementCounts>,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("name", &self.name)
            .field("url", &self.shown_url)
            .finish_non_exhaustive()
    }
}

/// Statements run and failed on one database, counted by the pool's metric callback.
#[derive(Debug, Default)]
struct StatementCounts {
    statements: AtomicU64,
    failed: AtomicU64,
}

/// What the last check of a replica found.
#[derive(Debug, Clone, Default)]
struct Health {
    in_rotation: bool,
    /// How far it had replayed the primary's log.
    replayed: Option<WalPosition>,
    lag: Option<Duration>,
    /// Why it is out of rotation.
    reason: Option<String>,
}

struct Replica {
    database: Arc<Database>,
    /// Mirrors `health.in_rotation` and `health.replayed`, read on every request.
    in_rotation: AtomicBool,
    replayed: AtomicU64,
    health: Mutex<Health>,
}

impl Replica {
    fn health(&self) -> Health {
        self.health
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set_health(&self, health: Health) {
        let previous = {
            let mut current = self.health.lock().unwrap_or_else(PoisonError::into_inner);
            std::mem::replace(&mut *current, health.clone())
        };
        self.replayed.store(
            health.replayed.unwrap_or(WalPosition::START).0,
            Ordering::Release,
        );
        self.in_rotation
            .store(health.in_rotation, Ordering::Release);
        let name = &self.database.name;
        match (previous.in_rotation, health.in_rotation) {
            (false, true) => tracing::info!(
                replica = %name,
                url = %self.database.shown_url,
                lag_ms = health.lag.map(|lag| lag.as_millis() as u64),
                "replica in rotation"
            ),
            (true, false) | (false, false) if previous.reason != health.reason => {
                tracing::warn!(
                    replica = %name,
                    url = %self.database.shown_url,
                    reason = health.reason.as_deref().unwrap_or("unknown"),
                    "replica out of rotation"
                );
            }
            _ => {}
        }
    }
}

/// What the primary is known to be, to compare replicas against.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PrimaryIdentity {
    system_identifier: String,
    database: String,
}

/// The primary's WAL positions of the last rounds, oldest first.
#[derive(Debug, Default)]
struct PrimarySamples {
    samples: VecDeque<(Instant, WalPosition)>,
    /// Whether the last attempt to sample it succeeded.
    up: bool,
}

struct Inner {
    primary: Arc<Database>,
    /// The primary's pool, uncounted: its WAL position is sampled on it, which is no read.
    sampler: Store,
    replicas: Vec<Replica>,
    next: AtomicUsize,
    settings: ReplicaSettings,
    samples: Mutex<PrimarySamples>,
    /// Wakes the checker early: a replica's connection broke during a request.
    recheck: Arc<Notify>,
}

/// Where reads go; cloning shares it. The checker stops when the last clone is dropped.
#[derive(Clone)]
pub struct ReadRouting {
    inner: Arc<Inner>,
    /// Searches of every read go to this index (each read gets a store of its own over it).
    search: Option<SearchEngine>,
}

impl fmt::Debug for ReadRouting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadRouting")
            .field("primary", &self.inner.primary)
            .field("replicas", &self.inner.replicas.len())
            .finish_non_exhaustive()
    }
}

/// Why replicas cannot be used at all.
#[derive(Debug, thiserror::Error)]
pub enum RoutingError {
    #[error(
        "read replicas need a PostgreSQL primary (DATABASE_URL); the embedded SQLite archive has none"
    )]
    NotPostgres,
    #[error("replica URL {url} is not a postgres:// URL")]
    NotAPostgresUrl { url: String },
    #[error("cannot read the primary's identity (system identifier and database name)")]
    PrimaryIdentity(#[source] DbErr),
    #[error("cannot open a pool for replica {url}")]
    Connect {
        url: String,
        #[source]
        source: DbErr,
    },
}

/// What `/readyz` and `/metrics` say about one database.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DatabaseStatus {
    pub name: String,
    /// Without credentials; empty (and left out) when the primary was given without one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// Answered its last check (replicas) or ping (the primary, in `/readyz`).
    pub up: bool,
    /// Replicas only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_rotation: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip)]
    pub statements: u64,
    #[serde(skip)]
    pub failed_statements: u64,
}

impl ReadRouting {
    /// Every read answering its searches from `engine`.
    pub fn with_search_engine(mut self, engine: Option<SearchEngine>) -> ReadRouting {
        self.search = engine;
        self
    }

    /// Every read on `primary`.
    pub fn primary_only(primary: Store) -> ReadRouting {
        let sampler = primary.clone();
        // Not counted: per-database figures only matter with replicas, and a metric callback
        // of ours would replace one the caller set on the connection.
        let primary = Arc::new(Database {
            name: Arc::from(PRIMARY),
            shown_url: String::new(),
            store: primary,
            usage: Arc::default(),
        });
        ReadRouting::over(primary, sampler, Vec::new(), ReplicaSettings::default())
    }

    fn over(
        primary: Arc<Database>,
        sampler: Store,
        replicas: Vec<Arc<Database>>,
        settings: ReplicaSettings,
    ) -> ReadRouting {
        let replicas = replicas
            .into_iter()
            .map(|database| Replica {
                database,
                in_rotation: AtomicBool::new(false),
                replayed: AtomicU64::new(0),
                health: Mutex::new(Health {
                    reason: Some("not checked yet".to_owned()),
                    ..Health::default()
                }),
            })
            .collect();
        ReadRouting {
            search: None,
            inner: Arc::new(Inner {
                primary,
                sampler,
                replicas,
                next: AtomicUsize::new(0),
                settings,
                samples: Mutex::new(PrimarySamples::default()),
                recheck: Arc::new(Notify::new()),
            }),
        }
    }

    /// Reads on the replicas at `replica_urls` (opened lazily: one that is down stays out of
    /// rotation until it answers), the primary `primary` when none is in rotation. Checks every
    /// replica once before returning, so the server starts with a known rotation, then keeps
    /// checking them. `changes`, the process's listener, makes a replica behind the last
    /// notified change be checked again sooner.
    pub async fn with_replicas(
        primary: DatabaseConnection,
        shown_primary_url: &str,
        replica_urls: &[String],
        pool: &database::PoolSettings,
        settings: ReplicaSettings,
        changes: Option<ArchiveChanges>,
    ) -> Result<ReadRouting, RoutingError> {
        if primary.get_database_backend() != DatabaseBackend::Postgres {
            return Err(RoutingError::NotPostgres);
        }
        let sampler = Store::over(primary.clone(), pool);
        let identity = primary_identity(sampler.db())
            .await
            .map_err(RoutingError::PrimaryIdentity)?;
        let mut replicas = Vec::with_capacity(replica_urls.len());
        for (index, url) in replica_urls.iter().enumerate() {
            let shown_url = database::redact_url(url);
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(RoutingError::NotAPostgresUrl { url: shown_url });
            }
            let db = database::connect_lazy_with(url, pool)
                .await
                .map_err(|source| RoutingError::Connect {
                    url: shown_url.clone(),
                    source,
                })?;
            replicas.push(counted(
                &format!("replica-{}", index + 1),
                &shown_url,
                db,
                pool,
            ));
        }
        let primary = counted(PRIMARY, shown_primary_url, primary, pool);
        let routing = ReadRouting::over(primary, sampler, replicas, settings);
        let checker = Checker {
            routing: Arc::downgrade(&routing.inner),
            recheck: Arc::clone(&routing.inner.recheck),
            identity,
            schema: Migrator::migrations()
                .last()
                .map(|migration| migration.name().to_owned())
                .unwrap_or_default(),
            changes,
        };
        checker.round().await;
        tokio::spawn(checker.run());
        Ok(routing)
    }

    /// Whether reads may go elsewhere than the primary.
    pub fn has_replicas(&self) -> bool {
        !self.inner.replicas.is_empty()
    }

    /// The primary's store (for the change listener's and subscriptions' reads).
    pub fn primary(&self) -> &Store {
        &self.inner.primary.store
    }

    /// The database for the next read: the next replica in rotation, else the primary.
    pub fn choose(&self) -> ReadTarget {
        self.choose_except(None)
    }

    /// Another database than `failed`, whose connection broke during a read: `failed` leaves
    /// the rotation until its next check passes (started now). `None` when there is no other.
    pub fn choose_instead_of(&self, failed: &ReadTarget) -> Option<ReadTarget> {
        if let Some(replica) = self
            .inner
            .replicas
            .iter()
            .find(|replica| Arc::ptr_eq(&replica.database, &failed.database))
        {
            let mut health = replica.health();
            health.in_rotation = false;
            health.reason = Some("a connection broke during a request".to_owned());
            replica.set_health(health);
            self.inner.recheck.notify_one();
        }
        let other = self.choose_except(Some(&failed.database));
        (!Arc::ptr_eq(&other.database, &failed.database)).then_some(other)
    }

    /// Runs `read` on the database chosen for it and, when it fails on a replica because of
    /// `lost_connection` (the connection broke), once more on another database.
    pub async fn read<T, E, F, Fut>(
        &self,
        read: F,
        lost_connection: impl Fn(&E) -> bool,
    ) -> Result<T, E>
    where
        F: Fn(Store) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let target = self.choose();
        match read(target.store.clone()).await {
            Err(error) if target.is_replica() && lost_connection(&error) => {
                match self.choose_instead_of(&target) {
                    Some(other) => {
                        tracing::warn!(
                            failed = target.name(),
                            retry = other.name(),
                            "a replica's connection broke during a read: reading elsewhere"
                        );
                        read(other.store).await
                    }
                    None => Err(error),
                }
            }
            result => result,
        }
    }

    fn choose_except(&self, excluded: Option<&Arc<Database>>) -> ReadTarget {
        let replicas = &self.inner.replicas;
        if !replicas.is_empty() {
            let start = self.inner.next.fetch_add(1, Ordering::Relaxed);
            for offset in 0..replicas.len() {
                let replica = &replicas[(start + offset) % replicas.len()];
                if !replica.in_rotation.load(Ordering::Acquire)
                    || excluded.is_some_and(|excluded| Arc::ptr_eq(excluded, &replica.database))
                {
                    continue;
                }
                return ReadTarget {
                    store: replica
                        .database
                        .store
                        .with_search_engine(self.search.as_ref()),
                    database: Arc::clone(&replica.database),
                    replayed: Some(WalPosition(replica.replayed.load(Ordering::Acquire))),
                };
            }
        }
        ReadTarget {
            store: self
                .inner
                .primary
                .store
                .with_search_engine(self.search.as_ref()),
            database: Arc::clone(&self.inner.primary),
            replayed: None,
        }
    }

    /// Every database: the primary first (`up` as its last sample said, or `true` without
    /// replicas, where nothing samples it), then the replicas in the order given.
    pub fn status(&self) -> Vec<DatabaseStatus> {
        let primary = &self.inner.primary;
        let primary_up = !self.has_replicas()
            || self
                .inner
                .samples
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .up;
        let mut status = vec![DatabaseStatus {
            name: primary.name.to_string(),
            url: primary.shown_url.clone(),
            up: primary_up,
            in_rotation: None,
            lag_ms: None,
            reason: None,
            statements: primary.usage.statements.load(Ordering::Relaxed),
            failed_statements: primary.usage.failed.load(Ordering::Relaxed),
        }];
        status.extend(self.inner.replicas.iter().map(|replica| {
            let health = replica.health();
            DatabaseStatus {
                name: replica.database.name.to_string(),
                url: replica.database.shown_url.clone(),
                up: health.replayed.is_some(),
                in_rotation: Some(health.in_rotation),
                lag_ms: health.lag.map(|lag| lag.as_millis() as u64),
                reason: health.reason,
                statements: replica.database.usage.statements.load(Ordering::Relaxed),
                failed_statements: replica.database.usage.failed.load(Ordering::Relaxed),
            }
        }));
        status
    }

    /// Whether any replica is in rotation now.
    pub fn any_replica_in_rotation(&self) -> bool {
        self.inner
            .replicas
            .iter()
            .any(|replica| replica.in_rotation.load(Ordering::Acquire))
    }
}

/// `db` with its statements counted, under `name`, run as `pool` requires.
fn counted(
    name: &str,
    shown_url: &str,
    mut db: DatabaseConnection,
    pool: &database::PoolSettings,
) -> Arc<Database> {
    let usage = Arc::new(StatementCounts::default());
    let counts = Arc::clone(&usage);
    db.set_metric_callback(move |info| {
        counts.statements.fetch_add(1, Ordering::Relaxed);
        if info.failed {
            counts.failed.fetch_add(1, Ordering::Relaxed);
        }
    });
    Arc::new(Database {
        name: Arc::from(name),
        shown_url: shown_url.to_owned(),
        store: Store::over(db, pool),
        usage,
    })
}

/// The task that checks the replicas; it ends when the routing is dropped.
struct Checker {
    routing: std::sync::Weak<Inner>,
    recheck: Arc<Notify>,
    identity: PrimaryIdentity,
    /// The last migration this binary knows: a replica must have it.
    schema: String,
    changes: Option<ArchiveChanges>,
}

/// How soon a replica behind the last notified change is checked again, so that answers read
/// from it can be cached again soon after a write.
const CATCH_UP_RECHECK: Duration = Duration::from_millis(100);

impl Checker {
    async fn run(self) {
        let mut news = self.changes.as_ref().map(ArchiveChanges::watch);
        loop {
            let Some(inner) = self.routing.upgrade() else {
                return;
            };
            let behind = self.changes.as_ref().is_some_and(|changes| {
                let (_, notified) = changes.notified_position();
                inner.replicas.iter().any(|replica| {
                    replica.in_rotation.load(Ordering::Acquire)
                        && notified.is_none_or(|notified| {
                            replica.replayed.load(Ordering::Acquire) < notified.0
                        })
                })
            });
            let wait = if behind {
                CATCH_UP_RECHECK
            } else {
                inner.settings.check_interval
            };
            let recheck = self.recheck.notified();
            drop(inner);
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = recheck => {}
                Some(()) = async {
                    match news.as_mut() {
                        Some(news) => news.changed().await.ok(),
                        None => std::future::pending().await,
                    }
                } => {}
            }
            self.round().await;
        }
    }

    /// Samples the primary, then checks every replica (concurrently) against it.
    async fn round(&self) {
        let Some(inner) = self.routing.upgrade() else {
            return;
        };
        let timeout = inner.settings.check_timeout;
        let sampled = tokio::time::timeout(timeout, current_wal_position(inner.sampler.db())).await;
        let now = Instant::now();
        {
            let mut samples = inner.samples.lock().unwrap_or_else(PoisonError::into_inner);
            match sampled {
                Ok(Ok(position)) => {
                    samples.samples.push_back((now, position));
                    samples.up = true;
                }
                Ok(Err(error)) => {
                    if samples.up {
                        tracing::warn!(error = ?error, "the primary cannot be sampled: replica lag is measured on the replicas alone");
                    }
                    samples.up = false;
                }
                Err(_) => {
                    if samples.up {
                        tracing::warn!(
                            ?timeout,
                            "the primary did not answer: replica lag is measured on the replicas alone"
                        );
                    }
                    samples.up = false;
                }
            }
            // Enough history to bound a lag twice the largest allowed.
            let keep = inner.settings.max_lag * 2 + inner.settings.check_interval;
            while samples
                .samples
                .front()
                .is_some_and(|(at, _)| now.duration_since(*at) > keep)
                && samples.samples.len() > 1
            {
                samples.samples.pop_front();
            }
        }
        let checks = inner.replicas.iter().map(|replica| async {
            let health = match tokio::time::timeout(timeout, replica_report(replica.database.store.db())).await {
                Ok(Ok(report)) => self.judge(&inner, &report),
                Ok(Err(error)) => {
                    tracing::debug!(replica = %replica.database.name, error = ?error, "replica check failed");
                    Health {
                        reason: Some(format!("cannot be reached or checked: {}", short_error(&error))),
                        ..Health::default()
                    }
                }
                Err(_) => Health {
                    reason: Some(format!("did not answer its check within {} ms", timeout.as_millis())),
                    ..Health::default()
                },
            };
            replica.set_health(health);
        });
        futures::future::join_all(checks).await;
    }

    /// Whether a replica that answered its check may serve reads.
    fn judge(&self, inner: &Inner, report: &ReplicaReport) -> Health {
        let out = |reason: String| Health {
            in_rotation: false,
            replayed: report.replayed,
            lag: None,
            reason: Some(reason),
        };
        let Some(replayed) = report.replayed.filter(|_| report.in_recovery) else {
            return out("is not a standby (pg_is_in_recovery() is false): point --replica-url at a hot standby of the primary".to_owned());
        };
        if report.system_identifier != self.identity.system_identifier {
            return out(format!(
                "replicates another cluster (system identifier {}, the primary's is {})",
                report.system_identifier, self.identity.system_identifier
            ));
        }
        if report.database != self.identity.database {
            return out(format!(
                "serves database {:?}, the primary's is {:?}",
                report.database, self.identity.database
            ));
        }
        match &report.schema {
            Some(schema) if *schema >= self.schema => {}
            found => {
                return out(format!(
                    "has schema {}, this api needs {}: migrate the primary and let the replica replay it",
                    found.as_deref().unwrap_or("(none)"),
                    self.schema
                ));
            }
        }
        let samples = inner.samples.lock().unwrap_or_else(PoisonError::into_inner);
        let lag = lag_behind(
            &samples,
            replayed,
            Instant::now(),
            inner.settings.check_interval * 3,
        )
        .unwrap_or_else(|| report.own_apply_delay());
        drop(samples);
        if lag > inner.settings.max_lag {
            return Health {
                lag: Some(lag),
                ..out(format!(
                    "lags {} ms behind the primary, more than --max-replica-lag-ms {}",
                    lag.as_millis(),
                    inner.settings.max_lag.as_millis()
                ))
            };
        }
        Health {
            in_rotation: true,
            replayed: Some(replayed),
            lag: Some(lag),
            reason: None,
        }
    }
}

/// The bound on a replica's staleness from the primary's samples: zero when it has replayed the
/// newest, else the time since the newest sample it has replayed (or since the oldest kept, if
/// it has replayed none). `None` when the newest sample is older than `fresh` (the primary is
/// not being sampled): the samples no longer say how far the primary is.
fn lag_behind(
    samples: &PrimarySamples,
    replayed: WalPosition,
    now: Instant,
    fresh: Duration,
) -> Option<Duration> {
    let &(newest_at, newest) = samples.samples.back()?;
    if now.duration_since(newest_at) > fresh {
        return None;
    }
    if replayed >= newest {
        return Some(Duration::ZERO);
    }
    let since = samples
        .samples
        .iter()
        .rev()
        .find(|(_, position)| *position <= replayed)
        .or(samples.samples.front())
        .map_or(newest_at, |(at, _)| *at);
    Some(now.duration_since(since))
}

/// What one check reads on a replica.
#[derive(Debug, Clone)]
struct ReplicaReport {
    in_recovery: bool,
    replayed: Option<WalPosition>,
    received: Option<WalPosition>,
    /// Age of the last replayed commit.
    replay_age: Option<Duration>,
    system_identifier: String,
    database: String,
    /// The last migration applied.
    schema: Option<String>,
}

impl ReplicaReport {
    /// Its apply delay as the replica alone sees it: the age of its last replayed commit while
    /// it holds WAL it has not replayed, else nothing.
    fn own_apply_delay(&self) -> Duration {
        match (self.received, self.replayed) {
            (Some(received), Some(replayed)) if received > replayed => {
                self.replay_age.unwrap_or(Duration::ZERO)
            }
            _ => Duration::ZERO,
        }
    }
}

fn text_of(function: &str) -> sea_orm::sea_query::FunctionCall {
    Func::cast_as(Func::cust(Alias::new(function)), Alias::new("text"))
}

/// One statement that says what a replica is, how far it has replayed, and whether it holds
/// migrations at all (its last one is read next).
fn replica_report_statement() -> String {
    let select = Query::select()
        .expr_as(
            Func::cust(Alias::new("pg_is_in_recovery")),
            Alias::new("in_recovery"),
        )
        .expr_as(text_of("pg_last_wal_replay_lsn"), Alias::new("replayed"))
        .expr_as(text_of("pg_last_wal_receive_lsn"), Alias::new("received"))
        .expr_as(
            Expr::cust(
                "(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000)::bigint",
            ),
            Alias::new("replay_age_ms"),
        )
        .expr_as(
            Expr::cust("to_regclass('seaql_migrations') IS NOT NULL"),
            Alias::new("migrated"),
        )
        .to_owned();
    with_identity(select).to_string(PostgresQueryBuilder)
}

/// `select` with columns `system_identifier` and `database`: which cluster and database the
/// server serves.
fn with_identity(mut select: SelectStatement) -> SelectStatement {
    select
        .expr_as(
            Expr::cust("(SELECT system_identifier FROM pg_control_system())::text"),
            Alias::new("system_identifier"),
        )
        .expr_as(
            Func::cust(Alias::new("current_database")),
            Alias::new("database"),
        );
    select
}

/// The one row `statement` returns.
async fn one_row(db: &ReadConnection, statement: String) -> Result<QueryResult, DbErr> {
    db.query_one_raw(Statement::from_string(DatabaseBackend::Postgres, statement))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("a check returned no row".to_owned()))
}

/// A WAL position as PostgreSQL writes it, or a type error.
fn parse_position(text: &str) -> Result<WalPosition, DbErr> {
    text.parse()
        .map_err(|error: crate::ops::wal_position::NotAWalPosition| DbErr::Type(error.to_string()))
}

async fn replica_report(db: &ReadConnection) -> Result<ReplicaReport, DbErr> {
    let row = one_row(db, replica_report_statement()).await?;
    let position = |column: &str| -> Result<Option<WalPosition>, DbErr> {
        row.try_get::<Option<String>>("", column)?
            .map(|text| parse_position(&text))
            .transpose()
    };
    Ok(ReplicaReport {
        in_recovery: row.try_get("", "in_recovery")?,
        replayed: position("replayed")?,
        received: position("received")?,
        replay_age: row
            .try_get::<Option<i64>>("", "replay_age_ms")?
            .map(|ms| Duration::from_millis(ms.max(0).unsigned_abs())),
        system_identifier: row.try_get("", "system_identifier")?,
        database: row.try_get("", "database")?,
        schema: if row.try_get("", "migrated")? {
            last_migration(db).await?
        } else {
            None
        },
    })
}

/// The last migration applied to the database of `db`.
async fn last_migration(db: &ReadConnection) -> Result<Option<String>, DbErr> {
    let statement = Query::select()
        .expr_as(
            Func::max(Expr::col(Alias::new("version"))),
            Alias::new("schema"),
        )
        .from(Alias::new("seaql_migrations"))
        .to_string(PostgresQueryBuilder);
    let row = db
        .query_one_raw(Statement::from_string(DatabaseBackend::Postgres, statement))
        .await?;
    match row {
        Some(row) => row.try_get("", "schema"),
        None => Ok(None),
    }
}

async fn primary_identity(db: &ReadConnection) -> Result<PrimaryIdentity, DbErr> {
    let statement = with_identity(Query::select().to_owned()).to_string(PostgresQueryBuilder);
    let row = one_row(db, statement).await?;
    Ok(PrimaryIdentity {
        system_identifier: row.try_get("", "system_identifier")?,
        database: row.try_get("", "database")?,
    })
}

async fn current_wal_position(db: &ReadConnection) -> Result<WalPosition, DbErr> {
    let statement = Query::select()
        .expr_as(text_of("pg_current_wal_lsn"), Alias::new("position"))
        .to_string(PostgresQueryBuilder);
    let text: String = one_row(db, statement).await?.try_get("", "position")?;
    parse_position(&text)
}

/// A database error in a few words for `/readyz`: the kind, never the server's message.
fn short_error(error: &DbErr) -> &'static str {
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => "no connection",
        DbErr::Query(_) | DbErr::Exec(_) => "the check statement failed (see the log)",
        _ => "unexpected answer (see the log)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(now: Instant, positions: &[(u64, u64)]) -> PrimarySamples {
        PrimarySamples {
            samples: positions
                .iter()
                .map(|&(seconds_ago, position)| {
                    (
                        now - Duration::from_secs(seconds_ago),
                        WalPosition(position),
                    )
                })
                .collect(),
            up: true,
        }
    }

    #[test]
    fn lag_is_the_time_since_the_primary_was_where_the_replica_is() {
        let now = Instant::now();
        let fresh = Duration::from_secs(3);
        let history = samples(now, &[(4, 100), (3, 200), (2, 300), (1, 300), (0, 400)]);
        let lag = |replayed| lag_behind(&history, WalPosition(replayed), now, fresh);
        assert_eq!(lag(400), Some(Duration::ZERO), "caught up");
        assert_eq!(lag(500), Some(Duration::ZERO), "ahead of the last sample");
        assert_eq!(
            lag(300),
            Some(Duration::from_secs(1)),
            "as of one second ago"
        );
        assert_eq!(
            lag(250),
            Some(Duration::from_secs(3)),
            "past 200, short of 300"
        );
        assert_eq!(
            lag(50),
            Some(Duration::from_secs(4)),
            "older than every sample"
        );
    }

    #[test]
    fn without_recent_samples_the_primary_says_nothing() {
        let now = Instant::now();
        let history = samples(now, &[(10, 100)]);
        assert_eq!(
            lag_behind(&history, WalPosition(50), now, Duration::from_secs(3)),
            None
        );
        assert_eq!(
            lag_behind(
                &PrimarySamples::default(),
                WalPosition(50),
                now,
                Duration::from_secs(3)
            ),
            None
        );
    }

    #[test]
    fn a_replica_alone_counts_only_what_it_has_received_and_not_replayed() {
        let report = |received, replayed| ReplicaReport {
            in_recovery: true,
            replayed: Some(WalPosition(replayed)),
            received: Some(WalPosition(received)),
            replay_age: Some(Duration::from_secs(7)),
            system_identifier: String::new(),
            database: String::new(),
            schema: None,
        };
        assert_eq!(report(10, 10).own_apply_delay(), Duration::ZERO);
        assert_eq!(report(20, 10).own_apply_delay(), Duration::from_secs(7));
    }

    #[test]
    fn only_an_answer_from_a_database_that_replayed_the_change_shows_it() {
        let db = DatabaseConnection::default();
        let database = counted("replica-1", "", db, &database::PoolSettings::default());
        let target = |replayed| ReadTarget {
            store: database.store.clone(),
            database: Arc::clone(&database),
            replayed,
        };
        let primary = target(None);
        assert!(primary.shows(None) && primary.shows(Some(WalPosition(9))));
        let replica = target(Some(WalPosition(5)));
        assert!(replica.shows(Some(WalPosition(5))));
        assert!(!replica.shows(Some(WalPosition(6))));
        assert!(
            !replica.shows(None),
            "an unknown position is never assumed replayed"
        );
    }
}
