//! Opening the archive database: one place that knows the URL default and the pool settings
//! for both backends (PostgreSQL in production, SQLite for the embedded default). `ingest`
//! loads through it and the `api` serves through it.

use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// The embedded default: a SQLite file in the working directory, created on first use.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://archive.sqlite?mode=rwc";
/// The file of [`DEFAULT_DATABASE_URL`], relative to the working directory.
pub const DEFAULT_SQLITE_FILE: &str = "archive.sqlite";

/// A pooled connection idle for this long is pinged before it is handed out.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

/// What the URL reaches: the database server itself, or a pooler that hands out server
/// connections one transaction at a time (PgBouncer's `pool_mode = transaction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pooler {
    /// The server, or a pooler in session mode: everything a session holds is kept.
    #[default]
    None,
    /// A transaction pooler: nothing may outlive a transaction. The pool keeps no prepared
    /// statements and sends no startup options the pooler would refuse (`options` with the
    /// statement timeout, `extra_float_digits`); statements must run inside transactions (the
    /// api's read layer wraps each in one) and the statement timeout be set in each.
    Transaction,
}

/// How long to wait for the database, and how many connections to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSettings {
    /// Longest wait to open one connection.
    pub connect_timeout: Duration,
    /// Longest wait for a connection from the pool (opening one included).
    pub acquire_timeout: Duration,
    pub max_connections: u32,
    /// PostgreSQL's `statement_timeout` on every connection; `None` leaves the server's.
    /// Behind a transaction pooler it is not sent at connection: the caller sets it per
    /// transaction.
    pub statement_timeout: Option<Duration>,
    pub pooler: Pooler,
}

impl Default for PoolSettings {
    /// For batch work such as ingest: patient waits, no statement timeout.
    fn default() -> Self {
        PoolSettings {
            connect_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(5),
            max_connections: 10,
            statement_timeout: None,
            pooler: Pooler::None,
        }
    }
}

/// Connects to `url` (`postgres://…` or `sqlite://…`) with bounded connect and acquire waits,
/// so an unreachable database is reported in seconds rather than hanging.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_with(url, &PoolSettings::default()).await
}

/// `connect` with explicit pool settings.
pub async fn connect_with(url: &str, settings: &PoolSettings) -> Result<DatabaseConnection, DbErr> {
    Database::connect(connect_options(url, settings)).await
}

/// A pool for `url` that opens its connections when first asked for one: a server that is
/// down now is no error (its reads fail until it is up).
pub async fn connect_lazy_with(
    url: &str,
    settings: &PoolSettings,
) -> Result<DatabaseConnection, DbErr> {
    let mut options = connect_options(url, settings);
    options.connect_lazy(true);
    Database::connect(options).await
}

fn connect_options(url: &str, settings: &PoolSettings) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(settings.connect_timeout)
        .acquire_timeout(settings.acquire_timeout)
        .max_connections(settings.max_connections)
        // A ping on every checkout is a round trip per statement; a connection that has been
        // busy within the last second is alive, so only idle ones are checked.
        .test_before_acquire_if_idle_for(IDLE_BEFORE_PING)
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        // Concurrent writers wait for each other instead of failing at once.
        options.map_sqlx_sqlite_opts(|opts| opts.busy_timeout(Duration::from_secs(30)));
    } else if settings.pooler == Pooler::Transaction {
        options.map_sqlx_postgres_opts(|opts| {
            opts.statement_cache_capacity(0).extra_float_digits(None)
        });
    } else if let Some(timeout) = settings.statement_timeout {
        let milliseconds = timeout.as_millis().to_string();
        options.map_sqlx_postgres_opts(move |opts| {
            opts.options([("statement_timeout", milliseconds.as_str())])
        });
    }
    options
}

/// `url` with any password and user name removed, for logs and error messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://…@{}", &url[..scheme_end], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn credentials_never_reach_logs() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/archive"),
            "postgres://…@db:5432/archive"
        );
        assert_eq!(
            redact_url("sqlite://archive.sqlite"),
            "sqlite://archive.sqlite"
        );
    }
}
