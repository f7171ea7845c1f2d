//! Prometheus metrics on `/metrics`: GraphQL operations and HTTP requests counted and timed as
//! they are served, database pool use and archive figures sampled when Prometheus scrapes.
//! Built on prometheus-client, the official Prometheus client for Rust: its registry is a plain
//! value owned by each `AppState`, so no global recorder exists and servers in one process (as in
//! the tests) never mix their counts.

use std::collections::HashSet;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use model::entity::{ingest_run, release_day_count};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseConnectionType, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::ops::read_routing::DatabaseStatus;
use crate::store::ReadConnection;

/// Where Prometheus scrapes.
pub const METRICS_PATH: &str = "/metrics";
/// Every metric name starts with this (`pressroom_graphql_requests_total`, …).
pub const PREFIX: &str = "pressroom";
/// The `operation` label of operations without a usable name.
pub const ANONYMOUS: &str = "anonymous";
/// The `operation` label of named operations once `MAX_OPERATION_NAMES` names are in use.
pub const OTHER: &str = "other";
/// Distinct operation names kept as labels; each one costs a time series per outcome and
/// bucket, and names are chosen by clients, so a misbehaving client must not grow them forever.
pub const MAX_OPERATION_NAMES: usize = 200;
/// Longest operation name used as a label; longer ones count as anonymous.
pub const MAX_OPERATION_NAME_LEN: usize = 64;
/// A scrape gives up on the archive figures after this long and reports
/// `pressroom_archive_stats_up 0`: a slow database must not make the scrape itself time out.
const ARCHIVE_READ_TIMEOUT: Duration = Duration::from_secs(1);
/// What prometheus-client writes (the OpenMetrics text format, which Prometheus reads natively).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// Upper bounds (seconds) of the latency buckets: from a cached lookup to the request timeout.
const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GraphqlLabels {
    operation: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

/// What a look in the response cache found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheLookup {
    /// Answered from the cache.
    Hit,
    /// Not there: the request ran, and its answer may be kept.
    Miss,
    /// The cache was not storing (its change listener was down): the request ran.
    Bypass,
}

impl CacheLookup {
    fn label(self) -> &'static str {
        match self {
            CacheLookup::Hit => "hit",
            CacheLookup::Miss => "miss",
            CacheLookup::Bypass => "bypass",
        }
    }
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The counters and histograms of one app; cloning shares them.
#[derive(Clone, Debug)]
pub struct Metrics {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    registry: Registry,
    graphql_requests: Family<GraphqlLabels, Counter>,
    graphql_duration: HistogramFamily<GraphqlLabels>,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: HistogramFamily<RouteLabels>,
    cache_lookups: Family<[(&'static str, &'static str); 1], Counter>,
    plans: Family<[(&'static str, &'static str); 1], Counter>,
    connections_open: Gauge,
    connections_refused: Counter,
    operation_names: Mutex<HashSet<String>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix(PREFIX);
        registry.register(
            "build",
            "Version of the running server",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        let graphql_requests = Family::<GraphqlLabels, Counter>::default();
        registry.register(
            "graphql_requests",
            "GraphQL operations answered, by operation name and outcome (ok, or the first error's extensions.code in lower case)",
            graphql_requests.clone(),
        );
        let graphql_duration: HistogramFamily<GraphqlLabels> =
            Family::new_with_constructor(latency_histogram);
        registry.register_with_unit(
            "graphql_request_duration",
            "Time from receiving a GraphQL request to having its response, by operation name and outcome",
            Unit::Seconds,
            graphql_duration.clone(),
        );
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route (`unmatched` for unknown paths) and status code",
            http_requests.clone(),
        );
        let http_duration: HistogramFamily<RouteLabels> =
            Family::new_with_constructor(latency_histogram);
        registry.register_with_unit(
            "http_request_duration",
            "Time from receiving an HTTP request to having its response, by route",
            Unit::Seconds,
            http_duration.clone(),
        );
        let cache_lookups = Family::<[(&'static str, &'static str); 1], Counter>::default();
        registry.register(
            "response_cache_lookups",
            "GraphQL requests looked up in the response cache, by result (hit, miss, or bypass while the cache cannot follow archive changes)",
            cache_lookups.clone(),
        );
        let plans = Family::<[(&'static str, &'static str); 1], Counter>::default();
        registry.register(
            "graphql_plans",
            "Requests whose document has a plan, by outcome (answered by the plan, or fallback: left to the schema)",
            plans.clone(),
        );
        let connections_open = Gauge::default();
        registry.register(
            "http_connections_open",
            "Client connections open now",
            connections_open.clone(),
        );
        let connections_refused = Counter::default();
        registry.register(
            "http_connections_refused",
            "Client connections refused with 503 because the connection cap was reached",
            connections_refused.clone(),
        );
        Metrics {
            inner: Arc::new(Inner {
                registry,
                graphql_requests,
                graphql_duration,
                http_requests,
                http_duration,
                cache_lookups,
                plans,
                connections_open,
                connections_refused,
                operation_names: Mutex::new(HashSet::new()),
            }),
        }
    }

    /// A client connection was accepted.
    pub fn connection_opened(&self) {
        self.inner.connections_open.inc();
    }

    /// A client connection ended.
    pub fn connection_closed(&self) {
        self.inner.connections_open.dec();
    }

    /// A client connection was refused at the connection cap.
    pub fn connection_refused(&self) {
        self.inner.connections_refused.inc();
    }

    /// Counts one HTTP request. `route` is the route's pattern, never the raw path, so that
    /// unknown paths cannot create time series.
    pub fn record_http(&self, route: &str, status: StatusCode, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        self.inner
            .http_requests
            .get_or_create(&HttpLabels {
                route: route.to_owned(),
                status: status.as_u16(),
            })
            .inc();
        self.inner
            .http_duration
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    /// Counts one look in the response cache.
    pub fn record_cache_lookup(&self, result: CacheLookup) {
        self.inner
            .cache_lookups
            .get_or_create(&[("result", result.label())])
            .inc();
    }

    /// Counts one request whose document has a plan: answered by it, or left to the schema.
    pub fn record_plan(&self, answered: bool) {
        let outcome = if answered { "answered" } else { "fallback" };
        self.inner
            .plans
            .get_or_create(&[("outcome", outcome)])
            .inc();
    }

    /// Counts one GraphQL operation. `operation` should already be a valid name or `None`;
    /// `outcome` is `ok` or an error code.
    pub fn record_graphql(&self, operation: Option<&str>, outcome: &str, elapsed: Duration) {
        let labels = GraphqlLabels {
            operation: self.operation_label(operation),
            outcome: outcome_label(outcome),
        };
        self.inner.graphql_requests.get_or_create(&labels).inc();
        self.inner
            .graphql_duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// The `operation` label for a client-chosen name: the name itself while it is a valid
    /// GraphQL name of at most `MAX_OPERATION_NAME_LEN` characters and one of the first
    /// `MAX_OPERATION_NAMES` seen, `other` for later names, `anonymous` without a usable name.
    pub fn operation_label(&self, operation: Option<&str>) -> String {
        let Some(name) = operation.filter(|name| is_operation_name(name)) else {
            return ANONYMOUS.to_owned();
        };
        // A poisoned lock only means another request panicked while inserting; the set is
        // still a valid set of names.
        let mut names = self
            .inner
            .operation_names
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if names.contains(name) {
            return name.to_owned();
        }
        if names.len() < MAX_OPERATION_NAMES {
            names.insert(name.to_owned());
            return name.to_owned();
        }
        OTHER.to_owned()
    }

    /// The exposition of everything counted so far plus figures sampled now: the pool of `db`
    /// (the primary's), the archive as `reads` (where reads go now) has it, the statements of
    /// each database, and, when answers are cached, the response cache.
    pub async fn render(
        &self,
        db: &DatabaseConnection,
        reads: &ReadConnection,
        databases: &[DatabaseStatus],
        cache: Option<CacheUsage>,
        live: LiveUsage,
    ) -> String {
        let mut text = String::new();
        let mut sampled = sample(db, reads).await;
        register_databases(databases, &mut sampled);
        if let Some(cache) = cache {
            cache.register(&mut sampled);
        }
        live.register(&mut sampled);
        // Writing into a String cannot fail; an error here could only come from a label that
        // refuses to encode, and ours are plain strings and numbers.
        if let Err(error) = encode_registry(&mut text, &self.inner.registry)
            .and_then(|()| encode_registry(&mut text, &sampled))
            .and_then(|()| encode_eof(&mut text))
        {
            tracing::error!(%error, "cannot encode the metrics");
        }
        text
    }
}

/// What the response cache holds when Prometheus scrapes.
#[derive(Debug, Clone, Copy)]
pub struct CacheUsage {
    pub entries: u64,
    /// Bytes of answers and keys, plus a fixed overhead per entry (the cache's own weight).
    pub bytes: u64,
    pub capacity_bytes: u64,
    /// Whether the archive-change listener is connected (answers are kept only then).
    pub listening: bool,
}

impl CacheUsage {
    fn register(self, registry: &mut Registry) {
        registry.register(
            "response_cache_entries",
            "Answers held by the response cache",
            gauge(self.entries),
        );
        registry.register_with_unit(
            "response_cache_size",
            "Weight of the answers held by the response cache (their bytes plus a fixed overhead each)",
            Unit::Bytes,
            gauge(self.bytes),
        );
        registry.register_with_unit(
            "response_cache_capacity",
            "Most the response cache may hold (--response-cache-mib)",
            Unit::Bytes,
            gauge(self.capacity_bytes),
        );
        registry.register(
            "response_cache_listening",
            "1 while the archive-change listener is connected and answers are cached, else 0",
            gauge(u64::from(self.listening)),
        );
    }
}

/// A gauge set to `value` (saturating at `i64::MAX`).
fn gauge(value: u64) -> Gauge<i64> {
    let gauge = Gauge::<i64>::default();
    gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
    gauge
}

/// Statements per database, and each replica's rotation and lag (with replicas only).
fn register_databases(databases: &[DatabaseStatus], registry: &mut Registry) {
    if databases.len() < 2 {
        return;
    }
    let statements = Family::<[(&'static str, String); 1], Counter>::default();
    let failed = Family::<[(&'static str, String); 1], Counter>::default();
    let in_rotation = Family::<[(&'static str, String); 1], Gauge>::default();
    let lag = Family::<[(&'static str, String); 1], Gauge<f64, AtomicU64>>::default();
    for database in databases {
        let label = [("database", database.name.clone())];
        statements.get_or_create(&label).inc_by(database.statements);
        failed
            .get_or_create(&label)
            .inc_by(database.failed_statements);
        if let Some(rotation) = database.in_rotation {
            in_rotation.get_or_create(&label).set(i64::from(rotation));
        }
        if let Some(lag_ms) = database.lag_ms {
            lag.get_or_create(&label).set(lag_ms as f64 / 1000.0);
        }
    }
    registry.register(
        "database_queries",
        "SQL statements run on each database (primary, replica-1, …) by requests",
        statements,
    );
    registry.register(
        "database_errors",
        "SQL statements that failed on each database",
        failed,
    );
    registry.register(
        "replica_in_rotation",
        "1 while the replica passes its checks and takes reads, else 0",
        in_rotation,
    );
    registry.register_with_unit(
        "replica_lag",
        "Upper bound on how far the replica's reads lag behind the primary, at its last check",
        Unit::Seconds,
        lag,
    );
}

/// What live subscriptions hold when Prometheus scrapes.
#[derive(Debug, Clone, Copy)]
pub struct LiveUsage {
    pub subscriptions: u64,
    /// WebSocket and SSE connections carrying subscriptions.
    pub connections: u64,
    /// `--max-subscription-connections`.
    pub max_connections: u64,
}

impl LiveUsage {
    fn register(self, registry: &mut Registry) {
        registry.register(
            "subscriptions",
            "Live subscriptions open (releaseEvents), over WebSocket and SSE",
            gauge(self.subscriptions),
        );
        registry.register(
            "subscription_connections",
            "WebSocket and SSE connections carrying subscriptions",
            gauge(self.connections),
        );
        registry.register(
            "subscription_connections_max",
            "Most connections that may carry subscriptions (--max-subscription-connections)",
            gauge(self.max_connections),
        );
    }
}

/// Whether `name` matches GraphQL's `Name` (`[_A-Za-z][_0-9A-Za-z]*`) and is short enough to be
/// a label.
pub fn is_operation_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= MAX_OPERATION_NAME_LEN
        && chars
            .next()
            .is_some_and(|first| first == '_' || first.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Outcomes are codes the server itself sets, but a label must never carry arbitrary text, so
/// anything that does not look like a code becomes `error`.
fn outcome_label(outcome: &str) -> String {
    let looks_like_code = !outcome.is_empty()
        && outcome.len() <= 40
        && outcome
            .chars()
            .all(|c| c == '_' || c.is_ascii_alphanumeric());
    if looks_like_code {
        outcome.to_ascii_lowercase()
    } else {
        "error".to_owned()
    }
}

/// Figures read at scrape time, in a registry of their own so that a failed read leaves its
/// metrics out of the scrape instead of repeating stale values.
async fn sample(db: &DatabaseConnection, reads: &ReadConnection) -> Registry {
    let mut registry = Registry::with_prefix(PREFIX);
    // The pool first: the archive read below takes a connection of its own.
    if let Some(pool) = PoolUsage::of(db) {
        let connections = Family::<[(&'static str, &'static str); 1], Gauge>::default();
        connections
            .get_or_create(&[("state", "in_use")])
            .set(pool.in_use);
        connections
            .get_or_create(&[("state", "idle")])
            .set(pool.idle);
        registry.register(
            "db_pool_connections",
            "Database connections open in the server's pool, in use by a request or idle",
            connections,
        );
        let max = Gauge::<i64>::default();
        max.set(pool.max);
        registry.register(
            "db_pool_max_connections",
            "Most connections the pool may open",
            max,
        );
    }

    let stats = tokio::time::timeout(ARCHIVE_READ_TIMEOUT, ArchiveStats::read(reads)).await;
    let up = Gauge::<i64>::default();
    registry.register(
        "archive_stats_up",
        "1 when this scrape could read the archive figures (releases, last ingest run), else 0",
        up.clone(),
    );
    let stats = match stats {
        Ok(Ok(stats)) => stats,
        Ok(Err(error)) => {
            // `/readyz` already warns about an unreachable database; the gauge says the rest.
            tracing::debug!(%error, "metrics: cannot read the archive figures");
            return registry;
        }
        Err(_) => {
            tracing::debug!(timeout = ?ARCHIVE_READ_TIMEOUT, "metrics: archive figures not read in time");
            return registry;
        }
    };
    up.set(1);
    let releases = Gauge::<i64>::default();
    releases.set(stats.releases);
    registry.register(
        "archive_releases",
        "Press releases in the archive",
        releases,
    );
    if let Some(run) = stats.last_run {
        let changes = Family::<[(&'static str, &'static str); 1], Gauge>::default();
        for (change, count) in [
            ("inserted", run.inserted),
            ("updated", run.updated),
            ("unchanged", run.unchanged),
            ("pruned", run.pruned),
        ] {
            changes
                .get_or_create(&[("change", change)])
                .set(i64::from(count));
        }
        registry.register(
            "ingest_last_run_releases",
            "Releases of the last finished ingest run, by what the run did with them",
            changes,
        );
        let finished = Gauge::<i64>::default();
        finished.set(run.finished_at.timestamp());
        registry.register_with_unit(
            "ingest_last_run_finished_timestamp",
            "When the last ingest run finished (Unix time)",
            Unit::Seconds,
            finished,
        );
    }
    registry
}

/// Connections of the server's pool, as sqlx counts them.
struct PoolUsage {
    in_use: i64,
    idle: i64,
    max: i64,
}

impl PoolUsage {
    fn of(db: &DatabaseConnection) -> Option<PoolUsage> {
        // The pool getters panic on the other backend, hence the match first.
        let (size, idle, max) = match &db.inner {
            DatabaseConnectionType::SqlxPostgresPoolConnection(_) => {
                let pool = db.get_postgres_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            DatabaseConnectionType::SqlxSqlitePoolConnection(_) => {
                let pool = db.get_sqlite_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            _ => return None,
        };
        let size = i64::from(size);
        let idle = i64::try_from(idle).unwrap_or(i64::MAX).min(size);
        Some(PoolUsage {
            in_use: size - idle,
            idle,
            max: i64::from(max),
        })
    }
}

/// The last finished ingest run's counts.
struct LastRun {
    finished_at: DateTime<Utc>,
    inserted: i32,
    updated: i32,
    unchanged: i32,
    pruned: i32,
}

/// `finished_at, inserted, updated, unchanged, pruned` of an `ingest_run` row.
type LastRunRow = (Option<DateTime<Utc>>, i32, i32, i32, i32);

/// Two cheap reads: the sum of the per-day counts (a few thousand rows at most, kept exact by
/// every ingest run) rather than a `COUNT(*)` over all releases, and the newest `ingest_run`.
struct ArchiveStats {
    releases: i64,
    last_run: Option<LastRun>,
}

impl ArchiveStats {
    async fn read(db: &ReadConnection) -> Result<ArchiveStats, DbErr> {
        let releases: Option<Option<i64>> = release_day_count::Entity::find()
            .select_only()
            .column_as(
                Expr::from(Func::sum(Expr::col(release_day_count::Column::Releases))),
                "releases",
            )
            .into_tuple()
            .one(db)
            .await?;
        let last_run: Option<LastRunRow> = ingest_run::Entity::find()
            .select_only()
            .columns([
                ingest_run::Column::FinishedAt,
                ingest_run::Column::Inserted,
                ingest_run::Column::Updated,
                ingest_run::Column::Unchanged,
                ingest_run::Column::Pruned,
            ])
            .filter(ingest_run::Column::FinishedAt.is_not_null())
            .order_by_desc(ingest_run::Column::Id)
            .limit(1)
            .into_tuple()
            .one(db)
            .await?;
        Ok(ArchiveStats {
            releases: releases.flatten().unwrap_or(0),
            last_run: last_run.and_then(|(finished_at, inserted, updated, unchanged, pruned)| {
                Some(LastRun {
                    finished_at: finished_at?,
                    inserted,
                    updated,
                    unchanged,
                    pruned,
                })
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_must_be_graphql_names_of_bounded_length() {
        assert!(is_operation_name("ReleasesByProgramme"));
        assert!(is_operation_name("_private2"));
        assert!(!is_operation_name(""));
        assert!(!is_operation_name("2fast"));
        assert!(!is_operation_name("drop table"));
        assert!(!is_operation_name("名前"));
        assert!(!is_operation_name(&"a".repeat(MAX_OPERATION_NAME_LEN + 1)));
        let metrics = Metrics::new();
        assert_eq!(metrics.operation_label(None), ANONYMOUS);
        assert_eq!(metrics.operation_label(Some("not a name")), ANONYMOUS);
    }

    #[test]
    fn names_past_the_cap_become_other_but_known_names_stay() {
        let metrics = Metrics::new();
        for i in 0..MAX_OPERATION_NAMES {
            assert_eq!(
                metrics.operation_label(Some(&format!("Op{i}"))),
                format!("Op{i}")
            );
        }
        assert_eq!(metrics.operation_label(Some("OneTooMany")), OTHER);
        assert_eq!(metrics.operation_label(Some("Op0")), "Op0");
    }

    #[test]
    fn outcomes_are_lower_case_codes_or_error() {
        assert_eq!(outcome_label("BAD_USER_INPUT"), "bad_user_input");
        assert_eq!(outcome_label("ok"), "ok");
        assert_eq!(outcome_label("not a code"), "error");
        assert_eq!(outcome_label(""), "error");
    }
}
