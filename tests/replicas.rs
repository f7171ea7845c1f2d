//! Reads on PostgreSQL replicas, end to end, on a primary and hot standbys of the test's own
//! (`pg_basebackup -R` on loopback ports): where reads go, what the response cache keeps while
//! a standby lags, a standby or the primary stopped under load, several api processes, and
//! replica URLs that point at the wrong thing.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use api::AppState;
use api::http::response_cache::ResponseCache;
use api::ops::archive_changes::ArchiveChanges;
use api::ops::read_routing::{ReadRouting, ReplicaSettings, RoutingError};
use clap::Parser;
use sea_orm::Database;
use serde_json::{Value, json};

use integration_tests::app::{TestApp, load_listings, post_query, spawn_app_with_state};
use integration_tests::binaries::{ApiProcess, api_binary};
use integration_tests::cluster::{Cluster, StopMode};
use integration_tests::sql::{connect_server, create_seed_archive, execute, query_text};

/// The newest release and how many there are: what an ingest visibly changes.
const NEWEST: &str = "{ releases(first: 1) { totalCount nodes { title } } }";
/// Releases with their tags: several statements per request.
const LOAD_QUERY: &str = r#"{ releases(filter: {programmes: ["score"]}, first: 5) {
    totalCount nodes { slug title programmes { slug } offices { slug } } } }"#;
/// The title of the release the tests ingest while the api runs.
const NEW_TITLE: &str = "Replicas carry the newest release";

/// Checks often, so that the tests need not wait long for the rotation to follow.
fn quick_checks() -> ReplicaSettings {
    ReplicaSettings {
        check_interval: Duration::from_millis(200),
        max_lag: Duration::from_secs(5),
        check_timeout: Duration::from_secs(2),
    }
}

/// A primary with the seed archive in database `archive`, and hot standbys of it.
struct Topology {
    primary: Cluster,
    standbys: Vec<Cluster>,
}

impl Topology {
    /// One standby per entry of `delays`, each replaying that far behind (or at once).
    async fn start(delays: &[Option<Duration>]) -> Topology {
        let primary = tokio::task::block_in_place(Cluster::start);
        let db = connect_server(&create_seed_archive(&primary).await).await;
        execute(&db, "CREATE EXTENSION pg_stat_statements").await;
        db.close().await.ok();
        let standbys = delays
            .iter()
            .map(|delay| tokio::task::block_in_place(|| Cluster::standby_of(&primary, *delay)))
            .collect();
        Topology { primary, standbys }
    }

    fn primary_url(&self) -> String {
        self.primary.url("archive")
    }

    fn standby_urls(&self) -> Vec<String> {
        self.standbys
            .iter()
            .map(|standby| standby.url("archive"))
            .collect()
    }

    /// Ingests one new release into the primary and returns the primary's WAL position after
    /// the commit.
    async fn ingest_new_release(&self, dir: &Path) -> String {
        let db = connect_server(&self.primary_url()).await;
        load_listings(&db, &[write_listing(dir)]).await;
        let position = query_text(&db, "SELECT pg_current_wal_lsn()::text").await;
        db.close().await.ok();
        position
    }

    /// Waits until every standby has replayed the primary's log up to `position`.
    async fn until_replayed(&self, position: &str) {
        for standby in &self.standbys {
            let db = Database::connect(standby.url("archive"))
                .await
                .expect("cannot connect to a standby");
            let started = Instant::now();
            let sql = format!("SELECT (pg_last_wal_replay_lsn() >= '{position}')::text");
            while query_text(&db, &sql).await != "true" {
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "standby on port {} did not replay {position} within 30 s",
                    standby.port()
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            db.close().await.ok();
        }
    }
}

fn pool_settings() -> database::PoolSettings {
    api::Cli::try_parse_from(["api"])
        .expect("the api flags do not parse")
        .config
        .pool_settings()
}

/// The api over `topology`'s primary with `replica_urls`, caching answers when `cache`.
async fn routed_app(topology: &Topology, replica_urls: &[String], cache: bool) -> TestApp {
    let db = connect_server(&topology.primary_url()).await;
    let changes = ArchiveChanges::follow(&db).expect("a listener on PostgreSQL");
    let reads = ReadRouting::with_replicas(
        db.clone(),
        "primary",
        replica_urls,
        &pool_settings(),
        quick_checks(),
        Some(changes.clone()),
    )
    .await
    .expect("the replicas are usable");
    let mut state = AppState::new(db).with_read_routing(reads);
    if cache {
        let cache = ResponseCache::new(&changes, 4 << 20).expect("a cache of 4 MiB");
        until(Duration::from_secs(10), "the listener connects", || {
            let cache = cache.clone();
            async move { cache.is_listening() }
        })
        .await;
        state = state.with_response_cache(Some(cache));
    }
    spawn_app_with_state(state).await
}

/// Statements that read the archive's releases on the server at `url`, as its own
/// pg_stat_statements counts them (updated as each statement ends).
async fn release_reads(url: &str) -> u64 {
    let db = Database::connect(url.to_owned())
        .await
        .expect("cannot connect to count statements");
    let count = query_text(
        &db,
        "SELECT coalesce(sum(calls), 0)::text FROM pg_stat_statements \
         WHERE query ILIKE '%FROM \"release\"%' AND query NOT ILIKE '%pg_stat_statements%'",
    )
    .await;
    db.close().await.ok();
    count.parse().expect("a count")
}

/// A listing with one release, newer than every seed release.
fn write_listing(dir: &Path) -> PathBuf {
    let text = format!(
        "News and press releases\n\n  1. {NEW_TITLE}\n\n    31 December 2030\n\n    \
         A release ingested while the api reads from replicas.\n\n"
    );
    let path = dir.join("ilo-beijing-replicas.txt");
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    path
}

async fn until<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn ready(app: &TestApp) -> (u16, Value) {
    let response = app.get("/readyz").await;
    let status = response.status().as_u16();
    (status, response.json().await.expect("/readyz answers JSON"))
}

fn newest_title(data: &Value) -> &str {
    data["releases"]["nodes"][0]["title"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_go_to_the_standbys_and_never_to_the_primary() {
    let topology = Topology::start(&[None, None]).await;
    let app = routed_app(&topology, &topology.standby_urls(), false).await;
    let (status, readiness) = ready(&app).await;
    assert_eq!(status, 200, "{readiness}");
    for replica in &readiness["databases"].as_array().expect("databases")[1..] {
        assert_eq!(replica["in_rotation"], true, "{readiness}");
    }

    let primary_before = release_reads(&topology.primary_url()).await;
    let standbys_before = [
        release_reads(&topology.standby_urls()[0]).await,
        release_reads(&topology.standby_urls()[1]).await,
    ];
    let expected = app.data(LOAD_QUERY, json!({})).await;
    for _ in 0..20 {
        assert_eq!(app.data(LOAD_QUERY, json!({})).await, expected);
    }
    for (index, url) in topology.standby_urls().iter().enumerate() {
        let after = release_reads(url).await;
        assert!(
            after >= standbys_before[index] + 5,
            "standby {} ran {} release reads for 21 requests shared by two standbys",
            index + 1,
            after - standbys_before[index]
        );
    }
    assert_eq!(
        release_reads(&topology.primary_url()).await,
        primary_before,
        "the primary ran release reads while both standbys were in rotation"
    );
    let primary_statements = app
        .metric("pressroom_database_queries_total{database=\"primary\"}")
        .await
        .expect("the primary's statement count");
    assert_eq!(
        primary_statements, 0.0,
        "statements reached the primary's pool"
    );
    for replica in ["replica-1", "replica-2"] {
        let name = format!("pressroom_database_queries_total{{database=\"{replica}\"}}");
        assert!(
            app.metric(&name)
                .await
                .expect("a replica's statement count")
                > 0.0
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_stale_answer_is_cached_while_a_delayed_standby_is_in_rotation() {
    let topology = Topology::start(&[None, Some(Duration::from_secs(2))]).await;
    let app = routed_app(&topology, &topology.standby_urls(), true).await;
    let client = reqwest::Client::new();
    let url = app.url("/graphql");
    let before = post_query(&client, &url, NEWEST)
        .await
        .expect("the newest release");
    assert_ne!(newest_title(&before), NEW_TITLE);
    for _ in 0..5 {
        assert_eq!(post_query(&client, &url, NEWEST).await, Ok(before.clone()));
    }

    let dir = tempfile::tempdir().expect("a temporary folder");
    let position = topology.ingest_new_release(dir.path()).await;
    // While the delayed standby has not replayed the ingest, its answers are old; they are
    // served (it is in rotation, within the lag allowed) but must not be kept.
    let replaying = Arc::new(AtomicBool::new(true));
    let asking = {
        let (client, url, replaying) = (client.clone(), url.clone(), Arc::clone(&replaying));
        tokio::spawn(async move {
            let mut stale = 0;
            while replaying.load(Ordering::Acquire) {
                let data = post_query(&client, &url, NEWEST).await.expect("an answer");
                if newest_title(&data) != NEW_TITLE {
                    stale += 1;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            stale
        })
    };
    topology.until_replayed(&position).await;
    replaying.store(false, Ordering::Release);
    let stale_while_replaying = asking.await.expect("the asking task");
    assert!(
        stale_while_replaying > 0,
        "no old answer was seen while the delayed standby replayed: the test did not exercise it"
    );
    for _ in 0..30 {
        let data = post_query(&client, &url, NEWEST).await.expect("an answer");
        assert_eq!(
            newest_title(&data),
            NEW_TITLE,
            "an old answer after both standbys replayed the ingest: {data}"
        );
        assert_eq!(data["releases"]["totalCount"], 41);
    }
    let hits = app
        .metric("pressroom_response_cache_lookups_total{result=\"hit\"}")
        .await
        .unwrap_or(0.0);
    assert!(
        hits > 0.0,
        "answers are cached again once the standbys show the change"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_standby_stopped_under_load_costs_no_request() {
    let topology = Topology::start(&[None, None]).await;
    let app = routed_app(&topology, &topology.standby_urls(), false).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("an HTTP client");
    let url = app.url("/graphql");
    let expected = post_query(&client, &url, LOAD_QUERY)
        .await
        .expect("an answer");

    let running = Arc::new(AtomicBool::new(true));
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let (client, url, expected, running) = (
                client.clone(),
                url.clone(),
                expected.clone(),
                Arc::clone(&running),
            );
            tokio::spawn(async move {
                let (mut answered, mut failed) = (0, Vec::new());
                let base = url.trim_end_matches("/graphql").to_owned();
                let mut n = 0usize;
                while running.load(Ordering::Relaxed) {
                    n += 1;
                    // GraphQL mostly, and pages and feeds, which read through the rotation too.
                    let page = match n % 4 {
                        1 => Some("/releases/score-pilot-experience-sharing-conference"),
                        2 => Some("/feeds/releases.json?programme=score"),
                        _ => None,
                    };
                    if let Some(path) = page {
                        match client.get(format!("{base}{path}")).send().await {
                            Ok(response) if response.status() == 200 => answered += 1,
                            Ok(response) => failed.push(format!("{path}: {}", response.status())),
                            Err(error) => failed.push(format!("{path}: {error}")),
                        }
                        continue;
                    }
                    match post_query(&client, &url, LOAD_QUERY).await {
                        Ok(data) if data == expected => answered += 1,
                        Ok(data) => failed.push(format!("different data: {data}")),
                        Err(error) => failed.push(error),
                    }
                }
                (answered, failed)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    tokio::task::block_in_place(|| topology.standbys[0].stop(StopMode::Immediate));
    tokio::time::sleep(Duration::from_secs(3)).await;
    running.store(false, Ordering::Relaxed);
    let (mut answered, mut failed) = (0, Vec::new());
    for client in clients {
        let (ok, errors) = client.await.expect("a client task");
        answered += ok;
        failed.extend(errors);
    }
    assert!(answered > 50, "only {answered} requests answered");
    assert_eq!(
        failed,
        Vec::<String>::new(),
        "requests failed although the other standby was up"
    );
    let (status, readiness) = ready(&app).await;
    assert_eq!(status, 200, "{readiness}");
    assert_eq!(
        readiness["databases"][1]["in_rotation"], false,
        "{readiness}"
    );
    assert_eq!(
        readiness["databases"][2]["in_rotation"], true,
        "{readiness}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_outlive_the_primary_and_caching_resumes_when_it_is_back() {
    let topology = Topology::start(&[None, None]).await;
    let app = routed_app(&topology, &topology.standby_urls(), true).await;
    let client = reqwest::Client::new();
    let url = app.url("/graphql");
    let expected = post_query(&client, &url, LOAD_QUERY)
        .await
        .expect("an answer");

    tokio::task::block_in_place(|| topology.primary.stop(StopMode::Fast));
    until(
        Duration::from_secs(10),
        "the cache stops keeping answers",
        || async { app.metric("pressroom_response_cache_listening").await == Some(0.0) },
    )
    .await;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        assert_eq!(
            post_query(&client, &url, LOAD_QUERY).await,
            Ok(expected.clone()),
            "a read failed while the primary was down"
        );
    }
    let (status, readiness) = ready(&app).await;
    assert_eq!(status, 200, "ready on the standbys alone: {readiness}");
    assert_eq!(readiness["databases"][0]["name"], "primary");
    assert_eq!(readiness["databases"][0]["up"], false, "{readiness}");
    let hits_before = app
        .metric("pressroom_response_cache_lookups_total{result=\"hit\"}")
        .await
        .unwrap_or(0.0);
    for _ in 0..3 {
        post_query(&client, &url, NEWEST).await.expect("an answer");
    }
    let hits = app
        .metric("pressroom_response_cache_lookups_total{result=\"hit\"}")
        .await
        .unwrap_or(0.0);
    assert_eq!(
        hits, hits_before,
        "answers were kept while nothing would say they changed"
    );

    tokio::task::block_in_place(|| topology.primary.restart());
    until(
        Duration::from_secs(20),
        "the listener reconnects",
        || async { app.metric("pressroom_response_cache_listening").await == Some(1.0) },
    )
    .await;
    until(
        Duration::from_secs(20),
        "a repeated query is answered from the cache",
        || {
            let (client, url, app) = (client.clone(), url.clone(), &app);
            async move {
                let before = app
                    .metric("pressroom_response_cache_lookups_total{result=\"hit\"}")
                    .await
                    .unwrap_or(0.0);
                post_query(&client, &url, LOAD_QUERY).await.ok();
                post_query(&client, &url, LOAD_QUERY).await.ok();
                app.metric("pressroom_response_cache_lookups_total{result=\"hit\"}")
                    .await
                    .unwrap_or(0.0)
                    > before
            }
        },
    )
    .await;
    let (status, readiness) = ready(&app).await;
    assert_eq!(status, 200);
    assert_eq!(readiness["databases"][0]["up"], true, "{readiness}");
}

/// An `api` process started from the binary; killed when dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_api_processes_all_serve_an_ingest() {
    let topology = Topology::start(&[None, Some(Duration::from_secs(1))]).await;
    let binary = tokio::task::block_in_place(api_binary);
    let mut args = vec![
        "--database-url".to_owned(),
        topology.primary_url(),
        "--replica-check-interval-ms".to_owned(),
        "200".to_owned(),
    ];
    for url in topology.standby_urls() {
        args.extend(["--replica-url".to_owned(), url]);
    }
    let processes: Vec<ApiProcess> =
        tokio::task::block_in_place(|| (0..3).map(|_| ApiProcess::start(&binary, &args)).collect());
    let client = reqwest::Client::new();
    for process in &processes {
        // Asked twice: the second answer comes from each process's cache.
        for _ in 0..2 {
            let data = post_query(&client, &process.graphql, NEWEST)
                .await
                .expect("an answer");
            assert_ne!(newest_title(&data), NEW_TITLE);
        }
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let position = topology.ingest_new_release(dir.path()).await;
    topology.until_replayed(&position).await;
    for process in &processes {
        until(
            Duration::from_secs(5),
            "every process serves the ingested release",
            || async {
                post_query(&client, &process.graphql, NEWEST)
                    .await
                    .is_ok_and(|data| newest_title(&data) == NEW_TITLE)
            },
        )
        .await;
        for _ in 0..10 {
            let data = post_query(&client, &process.graphql, NEWEST)
                .await
                .expect("an answer");
            assert_eq!(newest_title(&data), NEW_TITLE, "{}", process.graphql);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replica_urls_that_point_at_the_wrong_thing_stay_out_of_rotation() {
    let topology = Topology::start(&[None]).await;
    let standby = &topology.standbys[0];
    let nothing = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let port = listener.local_addr().expect("its address").port();
        format!("postgres://postgres@127.0.0.1:{port}/archive")
    };
    let urls = [
        topology.primary_url(),
        standby.url("postgres"),
        nothing,
        standby.url("archive"),
    ];
    let app = routed_app(&topology, &urls, false).await;
    let (status, readiness) = ready(&app).await;
    assert_eq!(status, 200, "{readiness}");
    let reasons: Vec<String> = readiness["databases"].as_array().expect("databases")[1..]
        .iter()
        .map(|replica| {
            replica["reason"]
                .as_str()
                .unwrap_or("(in rotation)")
                .to_owned()
        })
        .collect();
    assert!(reasons[0].contains("is not a standby"), "{reasons:?}");
    assert!(
        reasons[1].contains("serves database \"postgres\""),
        "{reasons:?}"
    );
    assert!(reasons[2].contains("cannot be reached"), "{reasons:?}");
    assert_eq!(reasons[3], "(in rotation)", "{reasons:?}");
    assert_eq!(
        app.data(NEWEST, json!({})).await["releases"]["totalCount"],
        40
    );

    // A replica that has not replayed the schema this binary needs leaves the rotation.
    let primary = connect_server(&topology.primary_url()).await;
    execute(
        &primary,
        "DELETE FROM seaql_migrations WHERE version = (SELECT max(version) FROM seaql_migrations)",
    )
    .await;
    let position = query_text(&primary, "SELECT pg_current_wal_lsn()::text").await;
    topology.until_replayed(&position).await;
    until(
        Duration::from_secs(5),
        "the behind schema is noticed",
        || async {
            let (_, readiness) = ready(&app).await;
            readiness["databases"][4]["reason"]
                .as_str()
                .is_some_and(|reason| reason.contains("has schema"))
        },
    )
    .await;
    let (status, _) = ready(&app).await;
    assert_eq!(status, 200, "the primary still serves");
    assert_eq!(
        app.data(NEWEST, json!({})).await["releases"]["totalCount"],
        40
    );

    // URLs that cannot be replicas at all are refused at startup.
    let refused = ReadRouting::with_replicas(
        primary.clone(),
        "primary",
        &["mysql://127.0.0.1/archive".to_owned()],
        &pool_settings(),
        quick_checks(),
        None,
    )
    .await;
    assert!(
        matches!(refused, Err(RoutingError::NotAPostgresUrl { .. })),
        "{refused:?}"
    );
    let sqlite = Database::connect("sqlite::memory:").await.expect("SQLite");
    let refused = ReadRouting::with_replicas(
        sqlite,
        "sqlite",
        &[standby.url("archive")],
        &pool_settings(),
        quick_checks(),
        None,
    )
    .await;
    assert!(
        matches!(refused, Err(RoutingError::NotPostgres)),
        "{refused:?}"
    );
}
