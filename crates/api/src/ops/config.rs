//! All configuration of the `api` binary, read in one place: command-line flags, each with an
//! environment variable where a deployment would set it, and defaults that need no setup.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::ops::limits::{ConnectionLimits, Limits, SubscriptionLimits};
use crate::ops::read_routing::ReplicaSettings;
use crate::ops::telemetry::LogFormat;

/// Serve the ILO China and Mongolia press-release archive over GraphQL.
///
/// Without a database URL the embedded archive is used: `archive.sqlite` in the working
/// directory, migrated and loaded on every start with the 40 seed releases built into the
/// binary, so it runs from any directory. Paths given to `--ingest` and `--catalogue` are
/// relative to the working directory.
#[derive(Debug, Parser)]
#[command(name = "api", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the GraphQL schema (SDL) to stdout and exit; `schema.graphql` is this output.
    Schema,
}

/// How the server runs.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Database to serve: postgres://… or sqlite://…. When absent, the embedded SQLite archive
    /// (ingest's default file) is created, migrated and loaded from the seeds.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Address and port to listen on.
    #[arg(long, env = "BIND_ADDR", default_value = "127.0.0.1:8000")]
    pub bind: SocketAddr,

    /// Log filter: a level (error, warn, info, debug, trace) or per-module directives such as
    /// `info,api=debug` (RUST_LOG syntax).
    #[arg(long, env = "LOG_LEVEL", default_value = "info")]
    pub log_level: String,

    /// Log line format: `text` (one human-readable line per event, the default) or `json` (one
    /// JSON object per line, for log collectors). Either way, each HTTP request is logged once
    /// at INFO with its method, path, status, duration and request id (health, readiness and
    /// metrics probes at DEBUG).
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Apply pending database migrations before serving. Always done for the embedded archive.
    #[arg(long, env = "MIGRATE")]
    pub migrate: bool,

    /// Load listings from PATH (a file, or a folder of *.txt listings) before serving; may be
    /// repeated (comma-separated in the variable). Without it, the embedded archive loads the
    /// seed listings built into the binary.
    #[arg(long, env = "INGEST_PATHS", value_name = "PATH", value_delimiter = ',')]
    pub ingest: Vec<PathBuf>,

    /// Web origins allowed to call the API from a browser (CORS), e.g.
    /// `https://app.example.org`; may be repeated, or comma-separated in the variable. None by
    /// default: only same-origin pages (the explorer and the playground) can call it.
    #[arg(
        long = "cors-origin",
        env = "CORS_ORIGINS",
        value_delimiter = ',',
        value_name = "ORIGIN"
    )]
    pub cors_origins: Vec<String>,

    /// Longest wait for a database connection, in milliseconds. While the database is down,
    /// requests fail after this with SERVICE_UNAVAILABLE instead of hanging.
    #[arg(long, env = "DB_ACQUIRE_TIMEOUT_MS", default_value_t = 1_500)]
    pub db_acquire_timeout_ms: u64,

    /// Largest number of database connections the server keeps open (to each database, with
    /// replicas).
    #[arg(long, env = "DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,

    /// What the database URLs reach: `none`, the servers (or a pooler in session mode); or
    /// `transaction`, a pooler in transaction pooling mode such as PgBouncer's
    /// `pool_mode = transaction`. Then each read runs in a short transaction of its own with the
    /// statement cache off, the statement timeout is set per transaction, the change listener
    /// connects to --listen-url, and --migrate is refused (migrate with a direct URL).
    #[arg(long, env = "DATABASE_POOLER", value_enum, default_value_t = PoolerMode::None)]
    pub database_pooler: PoolerMode,

    /// A direct connection to the primary (not through a pooler) for the change listener, which
    /// needs a session of its own for LISTEN. Required with --database-pooler transaction;
    /// defaults to DATABASE_URL otherwise.
    #[arg(long, env = "DATABASE_LISTEN_URL", value_name = "URL")]
    pub listen_url: Option<String>,

    /// A read replica of DATABASE_URL (a PostgreSQL hot standby): postgres://…; may be repeated
    /// (comma-separated in the variable). Reads go to the replicas in rotation in turn, and to
    /// DATABASE_URL, the primary, only while none is; the primary keeps the change listener.
    /// A replica is in rotation while it answers its checks, is a standby of the primary's
    /// cluster and database, has this binary's schema and lags less than
    /// --max-replica-lag-ms; `/readyz` says which are. See docs/scaling.md.
    #[arg(
        long = "replica-url",
        env = "DATABASE_REPLICA_URLS",
        value_delimiter = ',',
        value_name = "URL"
    )]
    pub replica_urls: Vec<String>,

    /// A replica further behind the primary than this, in milliseconds, leaves the rotation
    /// until it catches up: the most a read (and any cached answer) can lag behind the primary.
    #[arg(long, env = "MAX_REPLICA_LAG_MS", default_value_t = 5_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_replica_lag_ms: u64,

    /// How often each replica is checked, in milliseconds (and sooner, right after the archive
    /// changes, until it has replayed the change).
    #[arg(long, env = "REPLICA_CHECK_INTERVAL_MS", default_value_t = 1_000,
          value_parser = clap::value_parser!(u64).range(10..))]
    pub replica_check_interval_ms: u64,

    /// Memory for answers kept until the archive changes, in MiB; 0 turns the cache off. A
    /// query asked again, byte for byte, is answered from memory. PostgreSQL only: it tells the
    /// server when data changes (the `archive_changed` notification); SQLite cannot.
    #[arg(long, env = "RESPONSE_CACHE_MIB", default_value_t = 64)]
    pub response_cache_mib: u64,

    /// The address people reach the server at, e.g. `https://press.example.org`: the base of
    /// the absolute links in release pages (canonical and Open Graph), feeds and the sitemap.
    /// Set it behind a proxy. Without it, links use `http://` and the request's `Host` header.
    #[arg(long, env = "PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,

    #[command(flatten)]
    pub limits: Limits,

    #[command(flatten)]
    pub connection_limits: ConnectionLimits,

    #[command(flatten)]
    pub subscription_limits: SubscriptionLimits,

    /// How `ReleaseFilter.search` is answered: `index`, the search index kept beside the
    /// database (BM25 ranking, exact counts and facets in milliseconds, typo tolerance,
    /// `searchSuggestions`); or `database`, full-text search in SQL (PostgreSQL's GIN index,
    /// SQLite's FTS5), slower on large archives and without typo tolerance or suggestions.
    #[arg(long, env = "SEARCH_ENGINE", value_enum, default_value_t = SearchEngineMode::Index)]
    pub search_engine: SearchEngineMode,

    /// Directory of the search index: created and built from the database when missing, kept
    /// in step with it after every ingest, and reopened without a rebuild on restart. Each api
    /// process needs its own. Default: beside an SQLite archive (`archive.sqlite.search`), or
    /// for PostgreSQL under the user's cache directory, named after the database.
    #[arg(long, env = "SEARCH_INDEX_DIR", value_name = "DIR")]
    pub search_index_dir: Option<PathBuf>,

    /// Rebuild the search index from the database before serving, even when it is current
    /// (a lost or corrupt index is always rebuilt).
    #[arg(long, env = "REBUILD_SEARCH_INDEX")]
    pub rebuild_search_index: bool,

    /// Catalogue of offices and programmes used to tag ingested listings. Default: the
    /// catalogue built into the binary (the repository's `seeds/catalogue.toml`).
    #[arg(long, env = "CATALOGUE")]
    pub catalogue: Option<PathBuf>,
}

/// `--database-pooler`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PoolerMode {
    None,
    Transaction,
}

impl From<PoolerMode> for database::Pooler {
    fn from(mode: PoolerMode) -> database::Pooler {
        match mode {
            PoolerMode::None => database::Pooler::None,
            PoolerMode::Transaction => database::Pooler::Transaction,
        }
    }
}

/// Where the search index lives on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchLocation {
    pub path: PathBuf,
    /// A default base directory: the index is in its first `slot-N` no other process holds,
    /// so that several processes on one machine never share one.
    pub slots: bool,
}

/// `--search-engine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SearchEngineMode {
    Index,
    Database,
}

/// What to do before serving, once defaults are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartupPlan {
    pub database_url: String,
    pub migrate: bool,
    pub ingest: IngestPlan,
}

/// What is loaded before serving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestPlan {
    Nothing,
    /// The seed listings built into the binary.
    Seeds,
    Paths(Vec<PathBuf>),
}

impl Config {
    /// How replicas are checked.
    pub fn replica_settings(&self) -> ReplicaSettings {
        let check_interval = Duration::from_millis(self.replica_check_interval_ms);
        ReplicaSettings {
            check_interval,
            max_lag: Duration::from_millis(self.max_replica_lag_ms),
            check_timeout: check_interval.max(Duration::from_secs(2)),
        }
    }

    /// The server's database pool: a short acquire wait, so that requests fail fast with
    /// SERVICE_UNAVAILABLE while the database is down, and statements stopped at the request
    /// deadline.
    pub fn pool_settings(&self) -> database::PoolSettings {
        let acquire_timeout = Duration::from_millis(self.db_acquire_timeout_ms);
        database::PoolSettings {
            connect_timeout: acquire_timeout,
            acquire_timeout,
            max_connections: self.db_max_connections,
            statement_timeout: Some(self.limits.request_timeout()),
            pooler: self.database_pooler.into(),
        }
    }

    /// Where the search index lives: `None` without an index (`--search-engine database`),
    /// `Some(None)` in memory (an in-memory SQLite archive), else its directory. The default
    /// directory is a base in which each process takes the first free `slot-N` (see
    /// `ops::search_sync`); a directory given is used as it is.
    pub fn search_index_location(&self, database_url: &str) -> Option<Option<SearchLocation>> {
        if self.search_engine == SearchEngineMode::Database {
            return None;
        }
        if let Some(directory) = &self.search_index_dir {
            return Some(Some(SearchLocation {
                path: directory.clone(),
                slots: false,
            }));
        }
        if let Some(file) = sqlite_file(database_url) {
            return Some((!file.is_empty() && !file.contains(":memory:")).then(|| {
                SearchLocation {
                    path: PathBuf::from(format!("{file}.search")),
                    slots: true,
                }
            }));
        }
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
            .unwrap_or_else(std::env::temp_dir);
        Some(Some(SearchLocation {
            path: cache
                .join("pressroom")
                .join("search")
                .join(database_directory_name(database_url)),
            slots: true,
        }))
    }

    /// With a database URL, exactly what the flags say; without one, the embedded archive,
    /// which is only useful once migrated and loaded.
    pub fn startup_plan(&self) -> StartupPlan {
        match &self.database_url {
            Some(url) => StartupPlan {
                database_url: url.clone(),
                migrate: self.migrate,
                ingest: if self.ingest.is_empty() {
                    IngestPlan::Nothing
                } else {
                    IngestPlan::Paths(self.ingest.clone())
                },
            },
            None => StartupPlan {
                database_url: database::DEFAULT_DATABASE_URL.to_owned(),
                migrate: true,
                ingest: if self.ingest.is_empty() {
                    IngestPlan::Seeds
                } else {
                    IngestPlan::Paths(self.ingest.clone())
                },
            },
        }
    }
}

/// The file of an SQLite URL (`sqlite://archive.sqlite?mode=rwc` → `archive.sqlite`).
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    Some(rest.split('?').next().unwrap_or(rest))
}

/// A directory name for a PostgreSQL database: its host, port and name, readable, and a hash
/// of the whole URL without its password, so that two databases never share one.
fn database_directory_name(url: &str) -> String {
    use sha2::Digest;
    let redacted = database::redact_url(url);
    let readable: String = redacted
        .split_once('@')
        .map_or(redacted.as_str(), |(_, rest)| rest)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(60)
        .collect();
    let digest = sha2::Sha256::digest(redacted.as_bytes());
    let hash: String = digest
        .iter()
        .take(6)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("{readable}-{hash}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_index_lives_beside_sqlite_or_in_the_cache() {
        let mut cli = parse(&["api"]);
        cli.config.search_index_dir = None;
        assert_eq!(
            cli.config
                .search_index_location(database::DEFAULT_DATABASE_URL),
            Some(Some(SearchLocation {
                path: PathBuf::from("archive.sqlite.search"),
                slots: true
            }))
        );
        assert_eq!(
            cli.config.search_index_location("sqlite::memory:"),
            Some(None)
        );
        let a = cli
            .config
            .search_index_location("postgres://u:secret@db.example:5432/archive")
            .flatten()
            .unwrap()
            .path;
        let b = cli
            .config
            .search_index_location("postgres://u:secret@db.example:5432/other")
            .flatten()
            .unwrap()
            .path;
        assert_ne!(a, b);
        let name = a.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("db-example-5432-archive-"), "{name}");
        assert!(!name.contains("secret"), "{name}");
        cli.config.search_engine = SearchEngineMode::Database;
        assert_eq!(cli.config.search_index_location("sqlite::memory:"), None);
    }

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(args).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn embedded_default_migrates_and_loads_the_seeds() {
        let mut cli = parse(&["api"]);
        cli.config.database_url = None; // in case DATABASE_URL is set where the tests run
        let plan = cli.config.startup_plan();
        assert_eq!(plan.database_url, database::DEFAULT_DATABASE_URL);
        assert!(plan.migrate);
        assert_eq!(plan.ingest, IngestPlan::Seeds);
    }

    #[test]
    fn a_given_database_is_only_changed_when_asked() {
        let cli = parse(&["api", "--database-url", "postgres://db/archive"]);
        let plan = cli.config.startup_plan();
        assert!(!plan.migrate);
        assert_eq!(plan.ingest, IngestPlan::Nothing);

        let cli = parse(&[
            "api",
            "--database-url",
            "postgres://db/archive",
            "--migrate",
            "--ingest",
            "new.txt",
            "--bind",
            "0.0.0.0:9000",
        ]);
        let plan = cli.config.startup_plan();
        assert!(plan.migrate);
        assert_eq!(
            plan.ingest,
            IngestPlan::Paths(vec![PathBuf::from("new.txt")])
        );
        assert_eq!(cli.config.bind.port(), 9000);
    }

    #[test]
    fn schema_is_a_subcommand() {
        assert!(matches!(
            parse(&["api", "schema"]).command,
            Some(Command::Schema)
        ));
    }
}
