//! Test support shared by the end-to-end tests: a fresh database per test (PostgreSQL cloned
//! from a migrated template, or a SQLite file in a temporary folder), paths to the seeds, what
//! the listings say the server should serve, and the prerequisites the tests check before use.
//!
//! PostgreSQL is found through `TEST_DATABASE_URL`, else
//! `postgres://postgres@127.0.0.1:5432/postgres`; the `DATABASE_URL` a user may have set for
//! the server is never read.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test support: a failed expectation is a test failure, reported with its message"
)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDate;
use ingest::catalogue::Catalogue;
use ingest::prepare::PreparedInput;
use ingest::tag::Tagger;
use migration::{Migrator, MigratorTrait};
use model::entity::release;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, EntityTrait};
use tokio::sync::OnceCell;
use uuid::Uuid;

pub mod app;
pub mod binaries;
pub mod clients;
pub mod cluster;
pub mod expected;
pub mod json;
pub mod pgbouncer;
pub mod prerequisites;
pub mod python;
pub mod sql;

pub use expected::{ExpectedRelease, expected_releases, newest_first};
pub use prerequisites::{DEFAULT_POSTGRES_URL, test_database_url};

/// Key of the advisory lock under which test processes build the template database.
const TEMPLATE_LOCK_KEY: i64 = 0x7465_6d70_6c61_7465; // "template"

/// The repository root (where `seeds/` lives).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

pub fn seeds_dir() -> PathBuf {
    repo_root().join("seeds")
}

pub fn catalogue_path() -> PathBuf {
    seeds_dir().join("catalogue.toml")
}

/// A date of the calendar; panics on one that does not exist.
pub fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a valid date")
}

/// The two seed listings, in name order.
pub fn seed_listings() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(seeds_dir())
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|ext| ext == "txt"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// The releases of `listings` (files or folders) parsed and tagged with the seed catalogue, as
/// ingest prepares them: what tests compare the server's answers with, computed without it.
pub fn prepare_listings(listings: &[PathBuf]) -> PreparedInput {
    let catalogue = Catalogue::load(&catalogue_path()).expect("the seed catalogue loads");
    let tagger = Tagger::new(&catalogue).expect("the seed catalogue compiles");
    let files = ingest::prepare::find_listings(listings).expect("the listings are found");
    ingest::prepare::prepare(&files, &catalogue, &tagger).expect("the listings parse")
}

/// The slug of every stored release, by id (slugs are allocated by the loader, so expectations
/// read them from the database).
pub async fn stored_slugs(db: &DatabaseConnection) -> HashMap<Uuid, String> {
    release::Entity::find()
        .all(db)
        .await
        .expect("releases can be read")
        .into_iter()
        .map(|row| (row.id, row.slug))
        .collect()
}

/// The SQL statements run through `db` from now on, recorded in order, for tests that count
/// them (a page must cost a fixed number of statements, whatever its size).
pub fn record_statements(db: &mut DatabaseConnection) -> Arc<Mutex<Vec<String>>> {
    let statements: Arc<Mutex<Vec<String>>> = Arc::default();
    let recorded = Arc::clone(&statements);
    db.set_metric_callback(move |info| {
        if let Ok(mut recorded) = recorded.lock() {
            recorded.push(info.statement.sql.clone());
        }
    });
    statements
}

/// Which database engine a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// A database that exists for one test only, already migrated. Dropped with the value.
#[derive(Debug)]
pub struct TestDatabase {
    pub backend: Backend,
    pub url: String,
    postgres: Option<(String, String)>, // (admin URL, database name) to drop afterwards
    _sqlite_dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn new(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Postgres => TestDatabase::postgres().await,
            Backend::Sqlite => TestDatabase::sqlite().await,
        }
    }

    /// A fresh PostgreSQL database cloned from the migrated template.
    pub async fn postgres() -> TestDatabase {
        let admin_url = test_database_url();
        let template = ensure_template(&admin_url).await;
        let name = format!("archive_test_{}", Uuid::new_v4().simple());
        let admin = admin_connection(&admin_url).await;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        admin.close().await.ok();
        TestDatabase {
            backend: Backend::Postgres,
            url: with_database(&admin_url, &name),
            postgres: Some((admin_url, name)),
            _sqlite_dir: None,
        }
    }

    /// A fresh, migrated SQLite file in a temporary folder.
    pub async fn sqlite() -> TestDatabase {
        let dir = tempfile::tempdir().expect("a temporary folder for the SQLite file");
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("archive.sqlite").display()
        );
        let db = database::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
        Migrator::up(&db, None)
            .await
            .unwrap_or_else(|e| panic!("cannot migrate {url}: {e}"));
        db.close().await.ok();
        TestDatabase {
            backend: Backend::Sqlite,
            url,
            postgres: None,
            _sqlite_dir: Some(dir),
        }
    }

    pub async fn connect(&self) -> DatabaseConnection {
        database::connect(&self.url)
            .await
            .expect("the test database accepts a connection")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        let dropped = run_from_drop(
            admin_url,
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        );
        if !dropped {
            eprintln!("warning: could not drop a test database; it is named archive_test_*");
        }
    }
}

/// Runs `statement` on the database at `url` from a `Drop` implementation, whether or not a
/// runtime is running (the test's runtime cannot be blocked on, so a thread of its own does the
/// work). Whether the statement succeeded.
pub fn run_from_drop(url: String, statement: String) -> bool {
    let done = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        runtime.block_on(async {
            let admin = Database::connect(url.as_str()).await.ok()?;
            let result = admin.execute_unprepared(&statement).await;
            admin.close().await.ok();
            result.ok()
        })
    })
    .join();
    matches!(done, Ok(Some(_)))
}

/// `url` pointing at database `name` on the same server.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

/// A connection to the server of `admin_url` for creating and dropping databases; panics with
/// one line saying how to start PostgreSQL when nothing listens there.
async fn admin_connection(admin_url: &str) -> DatabaseConnection {
    prerequisites::require_postgres();
    let mut options = ConnectOptions::new(admin_url.to_owned());
    options
        .max_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    Database::connect(options).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL at {} refused the tests' connection ({e}): point TEST_DATABASE_URL at \
             a server and user that may create databases",
            prerequisites::server_of(admin_url)
        )
    })
}

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// The name of a template database holding the current schema, created once per schema
/// version by whichever test process gets there first.
async fn ensure_template(admin_url: &str) -> String {
    TEMPLATE
        .get_or_init(|| async {
            let last = Migrator::migrations()
                .last()
                .map(|m| m.name().to_owned())
                .unwrap_or_default();
            let template = format!("archive_tpl_{last}");
            let admin = admin_connection(admin_url).await;
            let run = |sql: String| {
                let admin = &admin;
                async move {
                    admin
                        .execute_unprepared(&sql)
                        .await
                        .unwrap_or_else(|e| panic!("template setup failed on `{sql}`: {e}"))
                }
            };
            run(format!("SELECT pg_advisory_lock({TEMPLATE_LOCK_KEY})")).await;
            let ready = admin
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    format!(
                        "SELECT 1 AS ok FROM pg_database WHERE datname = '{template}' AND datistemplate"
                    ),
                ))
                .await
                .expect("pg_database can be read")
                .is_some();
            if !ready {
                // A half-built template (from a killed run) is not marked as one: rebuild it.
                run(format!("DROP DATABASE IF EXISTS {template} WITH (FORCE)")).await;
                run(format!("CREATE DATABASE {template}")).await;
                let db = database::connect(&with_database(admin_url, &template))
                    .await
                    .unwrap_or_else(|e| panic!("cannot connect to {template}: {e}"));
                Migrator::up(&db, None)
                    .await
                    .unwrap_or_else(|e| panic!("cannot migrate {template}: {e}"));
                db.close().await.ok();
                run(format!("ALTER DATABASE {template} WITH IS_TEMPLATE true")).await;
            }
            run(format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK_KEY})")).await;
            admin.close().await.ok();
            template
        })
        .await
        .clone()
}

/// Runs `async fn name(backend: Backend)` once per backend, as tests `name::postgres` and
/// `name::sqlite`: `both_backends!(name);` beside the function.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::Backend::Postgres).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::Backend::Sqlite).await
                }
            }
        )+
    };
}
