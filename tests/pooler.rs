//! The api and ingest behind PgBouncer in transaction pooling mode (Debian's 1.18), on a
//! cluster and a PgBouncer of the test's own: concurrent requests share a few server
//! connections without an error, the listener connects directly, ingest loads through the
//! pooler with its lock, and the settings that mode needs are shown to be needed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use api::AppState;
use api::http::response_cache::ResponseCache;
use api::ops::archive_changes::ArchiveChanges;
use clap::Parser;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::{Value, json};

use integration_tests::app::{TestApp, post_query, spawn_app_with_state};
use integration_tests::binaries::ingest_binary;
use integration_tests::cluster::Cluster;
use integration_tests::pgbouncer::Pgbouncer;
use integration_tests::sql::create_seed_archive;

/// Requests that together run most of the read layer's statements.
const QUERIES: [&str; 3] = [
    r#"{ releases(filter: {programmes: ["score"]}, first: 5) {
        totalCount nodes { slug title programmes { slug } offices { slug } related(first: 2) { slug } } } }"#,
    r#"{ releaseFacets(filter: {search: "employment"}) { years { year count } programmes { programme { slug } count } } }"#,
    r#"{ programmes { slug releases(first: 2) { totalCount nodes { title } } } }"#,
];

/// A cluster with the seed archive in `archive`, and PgBouncer in transaction mode in front of
/// it with two server connections.
async fn pooled_archive() -> (Cluster, Pgbouncer) {
    let cluster = tokio::task::block_in_place(Cluster::start);
    create_seed_archive(&cluster).await;
    let bouncer =
        tokio::task::block_in_place(|| Pgbouncer::start(&cluster, "archive", "transaction", 2));
    (cluster, bouncer)
}

/// The api's settings with the given extra flags.
fn config(flags: &[&str]) -> api::Config {
    let mut args = vec!["api"];
    args.extend_from_slice(flags);
    api::Cli::try_parse_from(args)
        .expect("the api flags parse")
        .config
}

/// The api through `bouncer`, as `flags` configure it, with its listener on `listen_url` and a
/// response cache.
async fn app_through(
    bouncer: &Pgbouncer,
    listen_url: &str,
    flags: &[&str],
) -> (TestApp, ResponseCache) {
    let settings = config(flags).pool_settings();
    let db = database::connect_with(&bouncer.url("archive"), &settings)
        .await
        .expect("cannot connect through PgBouncer");
    let changes = ArchiveChanges::follow_at(listen_url.parse().expect("a PostgreSQL URL"));
    let cache = ResponseCache::new(&changes, 4 << 20).expect("a cache");
    let started = Instant::now();
    while !cache.is_listening() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the listener did not connect"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let state = AppState::new(db)
        .with_pool_settings(&settings)
        .with_response_cache(Some(cache.clone()));
    (spawn_app_with_state(state).await, cache)
}

/// Eight clients asking `QUERIES` in turn for `duration`, uncached (each with a distinct
/// variable-free comment, so no answer repeats byte for byte): the answers, or the errors.
async fn load(app: &TestApp, duration: Duration) -> (usize, Vec<String>, Vec<Value>) {
    let client = reqwest::Client::new();
    let url = app.url("/graphql");
    let running = Arc::new(AtomicBool::new(true));
    let clients: Vec<_> = (0..8)
        .map(|client_index| {
            let (client, url, running) = (client.clone(), url.clone(), Arc::clone(&running));
            tokio::spawn(async move {
                let (mut answers, mut errors) = (Vec::new(), Vec::new());
                let mut n = 0usize;
                while running.load(Ordering::Relaxed) {
                    let query = format!("# {client_index} {n}\n{}", QUERIES[n % QUERIES.len()]);
                    match post_query(&client, &url, &query).await {
                        Ok(data) => answers.push((n % QUERIES.len(), data)),
                        Err(error) => errors.push(error),
                    }
                    n += 1;
                }
                (answers, errors)
            })
        })
        .collect();
    tokio::time::sleep(duration).await;
    running.store(false, Ordering::Relaxed);
    let mut first: Vec<Option<Value>> = vec![None; QUERIES.len()];
    let (mut count, mut errors, mut different) = (0, Vec::new(), Vec::new());
    for client in clients {
        let (answers, failed) = client.await.expect("a client task");
        errors.extend(failed);
        for (query, data) in answers {
            count += 1;
            match &first[query] {
                None => first[query] = Some(data),
                Some(expected) if *expected != data => different.push(data),
                Some(_) => {}
            }
        }
    }
    (count, errors, different)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_api_reads_through_a_transaction_pooler_without_an_error() {
    let (cluster, bouncer) = pooled_archive().await;
    let (app, _cache) = app_through(
        &bouncer,
        &cluster.url("archive"),
        &["--database-pooler", "transaction"],
    )
    .await;
    let direct = Database::connect(cluster.url("archive"))
        .await
        .expect("direct");
    let seeds: i64 = direct
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT count(*) AS n FROM release",
        ))
        .await
        .expect("count")
        .and_then(|row| row.try_get("", "n").ok())
        .expect("a count");

    let (answered, errors, different) = load(&app, Duration::from_secs(3)).await;
    assert_eq!(errors, Vec::<String>::new(), "{}", bouncer.log());
    assert_eq!(
        different,
        Vec::<Value>::new(),
        "answers differed between requests"
    );
    assert!(answered > 30, "only {answered} answers in 3 s");
    let total = app
        .data("{ releases(first: 1) { totalCount } }", json!({}))
        .await;
    assert_eq!(total["releases"]["totalCount"], seeds);

    // The statement timeout, which PgBouncer cannot take as a startup option, holds in each
    // statement's transaction.
    let settings = config(&["--database-pooler", "transaction"]).pool_settings();
    let store = api::store::Store::over(app.db.clone(), &settings);
    let shown = store
        .db()
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT current_setting('statement_timeout') AS timeout",
        ))
        .await
        .expect("SHOW through the pooler")
        .and_then(|row| row.try_get::<String>("", "timeout").ok());
    assert_eq!(shown.as_deref(), Some("10s"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_the_pooler_setting_requests_fail_behind_a_transaction_pooler() {
    let (cluster, bouncer) = pooled_archive().await;
    // No --database-pooler: the startup options (the statement timeout, the driver's
    // extra_float_digits) are refused by PgBouncer 1.18 ...
    let settings = config(&[]).pool_settings();
    let refused = database::connect_with(&bouncer.url("archive"), &settings).await;
    assert!(refused.is_err(), "PgBouncer 1.18 took the startup options");
    // ... and where PgBouncer is told to ignore them, prepared statements cached per client
    // connection meet server connections that never prepared them.
    let lenient = tokio::task::block_in_place(|| {
        Pgbouncer::start_with(
            &cluster,
            "archive",
            "transaction",
            2,
            "ignore_startup_parameters = extra_float_digits, options",
        )
    });
    let db = database::connect_with(&lenient.url("archive"), &settings)
        .await
        .expect("cannot connect through the lenient PgBouncer");
    let app = spawn_app_with_state(AppState::new(db)).await;
    let (_, errors, _) = load(&app, Duration::from_secs(2)).await;
    assert!(
        !errors.is_empty(),
        "no request failed: the test no longer shows why --database-pooler transaction is needed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ingest_loads_through_a_transaction_pooler_and_the_api_sees_it() {
    let (cluster, bouncer) = pooled_archive().await;
    let (app, _cache) = app_through(
        &bouncer,
        &cluster.url("archive"),
        &["--database-pooler", "transaction"],
    )
    .await;
    let newest = "{ releases(first: 1) { totalCount nodes { title } } }";
    let before = app.data(newest, json!({})).await;
    assert_eq!(before["releases"]["totalCount"], 40);
    let _ = app.data(newest, json!({})).await; // kept by the cache

    let dir = tempfile::tempdir().expect("a temporary folder");
    let listings: Vec<PathBuf> = (0..2).map(|i| write_listing(dir.path(), i)).collect();
    let ingest = tokio::task::block_in_place(ingest_binary);
    // Two runs at once through the pooler: the lock is the transaction's, so they take turns.
    let started: Vec<_> = listings
        .iter()
        .map(|listing| {
            Command::new(&ingest)
                .args([
                    "--database-url",
                    &bouncer.url("archive"),
                    "--database-pooler",
                    "transaction",
                ])
                .arg(listing)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("ingest starts")
        })
        .collect();
    let runs: Vec<_> = started
        .into_iter()
        .map(|run| run.wait_with_output().expect("ingest ends"))
        .collect();
    for run in &runs {
        assert!(
            run.status.success(),
            "ingest through PgBouncer failed: {}\n{}",
            String::from_utf8_lossy(&run.stderr),
            bouncer.log()
        );
    }
    let started = Instant::now();
    loop {
        let now = app.data(newest, json!({})).await;
        if now["releases"]["totalCount"] == 42 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the api, listening directly, still answers {now} 5 s after the ingest"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let refused = Command::new(&ingest)
        .args([
            "--database-url",
            &bouncer.url("archive"),
            "--database-pooler",
            "transaction",
            "--migrate",
        ])
        .arg(&listings[0])
        .output()
        .expect("ingest runs");
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("--migrate cannot run through a transaction pooler"),
        "{message}"
    );
}

/// A listing with one release, published on day `index` of 2031.
fn write_listing(dir: &Path, index: u32) -> PathBuf {
    let text = format!(
        "News and press releases\n\n  1. Loaded through the pooler, part {index}\n\n    \
         {} January 2031\n\n    A release loaded by ingest through PgBouncer.\n\n",
        index + 1
    );
    let path = dir.join(format!("ilo-beijing-pooler-{index}.txt"));
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    path
}
