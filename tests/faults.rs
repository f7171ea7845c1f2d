//! Faults on PostgreSQL, end to end: the database going down under load and coming back, the
//! API served under the read-only `archive_reader` role, and an ingest run killed with SIGKILL
//! in the middle of its transaction.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{Value, json};

use integration_tests::app::{TestApp, load_listings, spawn_app_with};
use integration_tests::binaries::ingest_binary;
use integration_tests::cluster::{Cluster, StopMode};
use integration_tests::sql::{connect_server, create_seed_archive, execute, query_text};
use integration_tests::{Backend, TestDatabase, catalogue_path, run_from_drop, seeds_dir};

// ---------------------------------------------------------------------------------------------
// The database goes down under load.

/// Clients that query the server without pause.
const CLIENTS: usize = 8;
/// How long the database stays down.
const OUTAGE: Duration = Duration::from_secs(5);
/// Every request while the database is down is answered within this.
const ANSWER_WITHIN: Duration = Duration::from_secs(2);
/// Queries succeed again within this after the database is back, without restarting the server.
const RECOVER_WITHIN: Duration = Duration::from_secs(15);
/// Releases with their tags: a page, then one statement per tag kind.
const LOAD_QUERY: &str = r#"{ releases(filter: {programmes: ["score"]}, first: 5) {
    totalCount nodes { slug title programmes { slug } offices { slug } } } }"#;

/// One request as a client saw it.
#[derive(Debug)]
struct Sample {
    sent: Instant,
    took: Duration,
    answer: Answer,
}

#[derive(Debug)]
enum Answer {
    /// The same data as before the outage.
    Data,
    /// GraphQL errors: HTTP status, `errors[0].extensions.code` and `message`.
    Error {
        status: u16,
        code: String,
        message: String,
    },
    /// Anything else: no HTTP answer, no JSON, or different data.
    Broken(String),
}

async fn send(client: &reqwest::Client, url: &str, expected: &Value) -> Sample {
    let sent = Instant::now();
    let answer = match client
        .post(url)
        .json(&json!({ "query": LOAD_QUERY }))
        .send()
        .await
    {
        Err(error) => Answer::Broken(format!("no answer: {error}")),
        Ok(response) => {
            let status = response.status().as_u16();
            match response.json::<Value>().await {
                Err(error) => Answer::Broken(format!("{status} without JSON: {error}")),
                Ok(body) if body.get("errors").is_some() => Answer::Error {
                    status,
                    code: body["errors"][0]["extensions"]["code"]
                        .as_str()
                        .unwrap_or("(none)")
                        .to_owned(),
                    message: body["errors"][0]["message"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                },
                Ok(body) if &body["data"] == expected => Answer::Data,
                Ok(body) => Answer::Broken(format!("{status} with other data: {body}")),
            }
        }
    };
    Sample {
        sent,
        took: sent.elapsed(),
        answer,
    }
}

/// Words that would tell a client how the server reaches its database.
fn leaked_internals(message: &str, port: u16) -> Vec<String> {
    let lower = message.to_lowercase();
    let port = port.to_string();
    [
        "sqlx",
        "pool",
        "refused",
        "postgres",
        "127.0.0.1",
        "localhost",
        port.as_str(),
    ]
    .into_iter()
    .filter(|word| lower.contains(word))
    .map(str::to_owned)
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn database_outage_under_load_is_reported_then_recovered() {
    let cluster = tokio::task::block_in_place(Cluster::start);
    let db = connect_server(&create_seed_archive(&cluster).await).await;
    let app = spawn_app_with(db).await;

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("cannot build the HTTP client");
    let url = app.url("/graphql");
    let expected = app.data(LOAD_QUERY, json!({})).await;
    assert_eq!(expected["releases"]["totalCount"], 5, "{expected}");

    let running = Arc::new(AtomicBool::new(true));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (client, url, expected, running) = (
                client.clone(),
                url.clone(),
                expected.clone(),
                Arc::clone(&running),
            );
            tokio::spawn(async move {
                let mut samples = Vec::new();
                while running.load(Ordering::Relaxed) {
                    samples.push(send(&client, &url, &expected).await);
                }
                samples
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_secs(1)).await;
    let stopping = Instant::now();
    tokio::task::block_in_place(|| cluster.stop(StopMode::Immediate));
    let down = Instant::now();

    // While the database is down the process is alive but not ready.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let probe = Instant::now();
    let health = app.get("/healthz").await.status();
    let health_took = probe.elapsed();
    let probe = Instant::now();
    let ready = app.get("/readyz").await.status();
    let ready_took = probe.elapsed();

    tokio::time::sleep(OUTAGE.saturating_sub(down.elapsed())).await;
    let restarting = Instant::now();
    tokio::task::block_in_place(|| cluster.restart());
    let up = Instant::now();

    let recovered = loop {
        let sample = send(&client, &url, &expected).await;
        if matches!(sample.answer, Answer::Data) {
            break Instant::now();
        }
        assert!(
            up.elapsed() < RECOVER_WITHIN,
            "queries still fail {RECOVER_WITHIN:?} after the database came back: {:?}",
            sample.answer
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let ready_again = app.get("/readyz").await.status();
    // A moment of load after recovery: every client must be served again.
    tokio::time::sleep(Duration::from_secs(1)).await;
    running.store(false, Ordering::Relaxed);
    let mut samples = Vec::new();
    for handle in clients {
        samples.extend(handle.await.expect("a client task failed"));
    }

    let port = cluster.port();
    let mut problems = Vec::new();
    let mut outage_requests = 0;
    let mut outage_max = Duration::ZERO;
    let mut statuses = BTreeMap::new();
    let mut slowest = Duration::ZERO;
    for sample in &samples {
        slowest = slowest.max(sample.took);
        // Before, during and after the outage, and also when the crash cuts a query off.
        if sample.took > ANSWER_WITHIN {
            problems.push(format!(
                "a request sent {:?} after the database went down took {:?}",
                sample.sent.saturating_duration_since(stopping),
                sample.took
            ));
        }
        let sent_while_down = sample.sent >= down && sample.sent < restarting;
        if sent_while_down {
            outage_requests += 1;
            outage_max = outage_max.max(sample.took);
        }
        // Sent early enough in the outage that the restart cannot have answered it.
        let during_outage = sent_while_down && sample.sent + ANSWER_WITHIN <= restarting;
        match &sample.answer {
            Answer::Data if during_outage => {
                problems.push("data served while the database was down".to_owned());
            }
            Answer::Data => {}
            Answer::Error {
                status,
                code,
                message,
            } => {
                *statuses.entry(*status).or_insert(0) += 1;
                // Requests cut off by the crash itself count as the outage too.
                if code != "SERVICE_UNAVAILABLE" {
                    problems.push(format!("code {code}: {message}"));
                }
                let leaked = leaked_internals(message, port);
                if !leaked.is_empty() {
                    problems.push(format!("message names {leaked:?}: {message}"));
                }
            }
            Answer::Broken(what) => problems.push(what.clone()),
        }
        if sample.sent >= recovered && !matches!(sample.answer, Answer::Data) {
            problems.push(format!("failed after recovery: {:?}", sample.answer));
        }
    }
    problems.sort();
    problems.dedup();
    eprintln!(
        "outage: {} requests in all, {outage_requests} while the database was down, slowest \
         answer then {outage_max:?} (of all {slowest:?}); error statuses {statuses:?}; /healthz {health_took:?}, \
         /readyz {ready_took:?}; queries succeeded {:?} after the restart (which took {:?})",
        samples.len(),
        recovered.duration_since(up),
        up.duration_since(restarting),
    );
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(
        outage_requests >= CLIENTS,
        "the outage saw only {outage_requests} requests: the load did not run"
    );
    assert_eq!(
        health,
        reqwest::StatusCode::OK,
        "/healthz during the outage"
    );
    assert_eq!(
        ready,
        reqwest::StatusCode::SERVICE_UNAVAILABLE,
        "/readyz during the outage"
    );
    assert_eq!(
        ready_again,
        reqwest::StatusCode::OK,
        "/readyz after recovery"
    );
}

// ---------------------------------------------------------------------------------------------
// The read-only role.

/// A LOGIN role that is a member of `archive_reader`, dropped with the value.
#[derive(Debug)]
struct ReaderLogin {
    admin_url: String,
    name: String,
    url: String,
}

impl ReaderLogin {
    async fn create(test_db: &TestDatabase) -> ReaderLogin {
        let name = format!("archive_ro_{}", uuid::Uuid::new_v4().simple());
        let password = uuid::Uuid::new_v4().simple().to_string();
        let admin = test_db.connect().await;
        execute(
            &admin,
            &format!("CREATE ROLE {name} LOGIN PASSWORD '{password}' IN ROLE archive_reader"),
        )
        .await;
        admin.close().await.ok();
        ReaderLogin {
            admin_url: test_db.url.clone(),
            url: with_user(&test_db.url, &name, &password),
            name,
        }
    }
}

impl Drop for ReaderLogin {
    fn drop(&mut self) {
        let dropped = run_from_drop(
            self.admin_url.clone(),
            format!("DROP ROLE IF EXISTS {}", self.name),
        );
        if !dropped {
            eprintln!("warning: could not drop the test role {}", self.name);
        }
    }
}

/// `url` with its user and password replaced.
fn with_user(url: &str, user: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let host_start = rest
        .find('/')
        .map_or(rest, |slash| &rest[..slash])
        .rfind('@')
        .map_or(0, |at| at + 1);
    format!("{scheme}://{user}:{password}@{}", &rest[host_start..])
}

/// What a frontend asks for, all served by the read-only login exactly as by the owner.
const READER_QUERIES: &[&str] = &[
    r#"{ releases(first: 100) { totalCount
        edges { cursor node { id slug title publishedOn summary imageCredit
            programmes { slug name } offices { slug city } } }
        pageInfo { hasNextPage endCursor } } }"#,
    r#"{ releases(filter: {search: "apprentice"}, orderBy: RELEVANCE, first: 3) {
        totalCount nodes { slug highlight } } }"#,
    r#"{ releaseFacets(filter: {programmes: ["score"]}) { total years { year count }
        months { year month count } programmes { programme { slug } count }
        offices { office { slug } count } } }"#,
    r#"{ releaseFacets(filter: {search: "training"}) { total years { year count }
        programmes { programme { slug } count } } }"#,
    r#"{ release(slug: "score-pilot-experience-sharing-conference") {
        title related(first: 5) { slug } } }"#,
    r#"{ programmes { slug releaseCount } offices { slug } }"#,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_role_serves_every_query_and_cannot_write() {
    let test_db = TestDatabase::new(Backend::Postgres).await;
    let owner_db = test_db.connect().await;
    load_listings(&owner_db, &[seeds_dir()]).await;
    let login = ReaderLogin::create(&test_db).await;
    let owner = spawn_app_with(owner_db.clone()).await;
    let reader = spawn_app_with(connect_server(&login.url).await).await;

    assert_eq!(
        reader.get("/readyz").await.status(),
        reqwest::StatusCode::OK
    );
    for query in READER_QUERIES {
        let expected = owner.data(query, json!({})).await;
        assert_eq!(
            reader.data(query, json!({})).await,
            expected,
            "the read-only login sees other data for {query}"
        );
    }
    let page = reader.data(READER_QUERIES[0], json!({})).await;
    assert_eq!(page["releases"]["totalCount"], 40, "{page}");
    let search = reader.data(READER_QUERIES[1], json!({})).await;
    assert_eq!(search["releases"]["totalCount"], 3, "{search}");
    let facets = reader.data(READER_QUERIES[2], json!({})).await;
    assert_eq!(facets["releaseFacets"]["total"], 5, "{facets}");
    let related = reader.data(READER_QUERIES[4], json!({})).await;
    assert!(
        related["release"]["related"]
            .as_array()
            .is_some_and(|list| !list.is_empty()),
        "{related}"
    );
    let id = page["releases"]["edges"][0]["node"]["id"].clone();
    let node = reader
        .data(
            "query($id: ID!) { node(id: $id) { id ... on Release { title } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(node["node"]["id"], id, "{node}");
    assert_eq!(
        node["node"]["title"],
        page["releases"]["edges"][0]["node"]["title"]
    );

    assert_cannot_write(&reader).await;
    // The ingest pipeline under the read-only login is refused, and nothing changes.
    let refused = ingest::ingest_paths(
        &reader.db,
        &catalogue_path(),
        &[seeds_dir()],
        ingest::LoadOptions::default(),
        &ingest::NoProgress,
    )
    .await
    .expect_err("ingest succeeded under the read-only login");
    // The error names its cause in its chain, which the binaries print.
    let chain = format!("{:#}", anyhow::Error::new(refused));
    assert!(chain.contains("permission denied"), "{chain}");
    assert_eq!(
        query_text(&owner_db, "SELECT count(*)::text FROM release").await,
        "40"
    );
    assert_eq!(
        query_text(&owner_db, "SELECT count(*)::text FROM ingest_run").await,
        "1"
    );
    reader.db.clone().close().await.ok();
}

async fn assert_cannot_write(reader: &TestApp) {
    for statement in [
        "INSERT INTO release_day_count (published_on, releases) VALUES ('1999-01-01', 1)",
        "UPDATE release SET title = upper(title)",
        "DELETE FROM release_office",
        "TRUNCATE release_programme",
        "CREATE TABLE reader_scratch (id int)",
    ] {
        let error = reader
            .db
            .execute_unprepared(statement)
            .await
            .err()
            .unwrap_or_else(|| panic!("the read-only login may run `{statement}`"));
        assert!(
            error.to_string().contains("permission denied"),
            "`{statement}` failed otherwise: {error}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_grants_follow_the_migration_down_and_up() {
    let test_db = TestDatabase::new(Backend::Postgres).await;
    let db = test_db.connect().await;
    let can_read = "SELECT (has_schema_privilege('archive_reader', 'public', 'USAGE')
        AND has_table_privilege('archive_reader', 'release', 'SELECT')
        AND has_table_privilege('archive_reader', 'release_pair_day_count', 'SELECT'))::text";
    let can_write = "SELECT (has_table_privilege('archive_reader', 'release', 'INSERT')
        OR has_table_privilege('archive_reader', 'release', 'UPDATE')
        OR has_table_privilege('archive_reader', 'release', 'DELETE'))::text";
    let is_nologin =
        "SELECT (NOT rolcanlogin)::text FROM pg_roles WHERE rolname = 'archive_reader'";
    assert_eq!(query_text(&db, can_read).await, "true");
    assert_eq!(query_text(&db, can_write).await, "false");
    assert_eq!(query_text(&db, is_nologin).await, "true");
    // A table made later by the migrating login is readable without another grant.
    execute(&db, "CREATE TABLE later_table (id int)").await;
    assert_eq!(
        query_text(
            &db,
            "SELECT has_table_privilege('archive_reader', 'later_table', 'SELECT')::text"
        )
        .await,
        "true"
    );
    execute(&db, "DROP TABLE later_table").await;

    // Down to just before the read-only migration, whatever came after it.
    let migrations = Migrator::migrations();
    let position = migrations
        .iter()
        .position(|migration| migration.name() == "m20261125_000001_read_only_role")
        .expect("the read-only migration is in the list");
    let steps = u32::try_from(migrations.len() - position).unwrap_or(u32::MAX);
    Migrator::down(&db, Some(steps))
        .await
        .expect("the read-only migration does not go down");
    assert_eq!(query_text(&db, can_read).await, "false");
    assert_eq!(
        query_text(&db, is_nologin).await,
        "true",
        "the role stays for the cluster's other databases"
    );
    Migrator::up(&db, None)
        .await
        .expect("the read-only migration does not go up again");
    assert_eq!(query_text(&db, can_read).await, "true");
}

// ---------------------------------------------------------------------------------------------
// Ingest killed with SIGKILL mid-transaction.

/// Tables whose content a run writes; their content must survive a killed run unchanged.
const CONTENT_TABLES: &[&str] = &[
    "office",
    "programme",
    "programme_office",
    "release",
    "release_programme",
    "release_office",
    "ingest_run",
    "release_day_count",
    "release_tag_day_count",
    "release_pair_day_count",
];

/// Row count and an order-independent digest of every row, per table.
async fn content(db: &DatabaseConnection) -> BTreeMap<&'static str, String> {
    let mut content = BTreeMap::new();
    for table in CONTENT_TABLES {
        let digest = query_text(
            db,
            &format!(
                "SELECT count(*) || ' rows, md5 ' || coalesce(md5(string_agg(md5(t::text), ',' \
                 ORDER BY md5(t::text))), '-') FROM {table} t"
            ),
        )
        .await;
        content.insert(*table, digest);
    }
    content
}

/// Waits for `child` at most `limit`; kills it and panics past that.
async fn wait_for(child: &mut Child, limit: Duration, what: &str) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child
            .try_wait()
            .unwrap_or_else(|e| panic!("cannot wait for {what}: {e}"))
        {
            return status;
        }
        if start.elapsed() > limit {
            child.kill().ok();
            panic!("{what} did not finish within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The backend of another session that holds an advisory lock in this database (ingest's run
/// lock) in a transaction that has written and has been open for `min_age` at least.
async fn ingest_backend(db: &DatabaseConnection, min_age: Duration) -> Option<String> {
    let sql = format!(
        "SELECT coalesce(min(a.pid)::text, '') FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND a.pid <> pg_backend_pid() AND a.backend_xid IS NOT NULL
           AND a.xact_start <= now() - interval '{} milliseconds'",
        min_age.as_millis()
    );
    let pid = query_text(db, &sql).await;
    (!pid.is_empty()).then_some(pid)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_killed_mid_transaction_leaves_the_archive_as_it_was() {
    use std::os::unix::process::ExitStatusExt;

    let test_db = TestDatabase::new(Backend::Postgres).await;
    let db = test_db.connect().await;
    load_listings(&db, &[seeds_dir()]).await;
    let before = content(&db).await;
    assert!(before["release"].starts_with("40 rows"), "{before:?}");

    let ingest = tokio::task::block_in_place(ingest_binary);
    let work = tempfile::tempdir().expect("temp dir");
    let corpus = work.path().join("listings");
    let log_path = work.path().join("ingest.log");
    let log = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
    // One listing of 50,000 releases: its load takes several seconds even in a release build.
    let generated = Command::new(&ingest)
        .args(["generate", "--releases", "50000", "--seed", "2026", "--out"])
        .arg(&corpus)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", ingest.display()));
    assert!(
        generated.status.success(),
        "ingest generate failed: {}",
        String::from_utf8_lossy(&generated.stderr)
    );

    let mut run = Command::new(&ingest)
        .arg("--database-url")
        .arg(&test_db.url)
        .arg("--catalogue")
        .arg(catalogue_path())
        .arg(&corpus)
        .stdout(Stdio::null())
        .stderr(
            std::fs::File::create(&log_path)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", log_path.display())),
        )
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", ingest.display()));
    let started = Instant::now();
    let backend = loop {
        if let Some(pid) = ingest_backend(&db, Duration::from_secs(1)).await {
            break pid;
        }
        if let Ok(Some(status)) = run.try_wait() {
            panic!(
                "ingest ended ({status}) before it could be killed: {}",
                log(&log_path)
            );
        }
        if started.elapsed() > Duration::from_secs(60) {
            run.kill().ok();
            panic!("ingest did not open its transaction within a minute");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let killed_after = started.elapsed();
    run.kill().expect("cannot SIGKILL ingest");
    let status = wait_for(&mut run, Duration::from_secs(10), "the killed ingest").await;
    assert_eq!(status.signal(), Some(9), "ingest ended otherwise: {status}");

    // The server notices the lost client and rolls back; its lock goes with the session.
    let gone = Instant::now();
    while query_text(
        &db,
        &format!("SELECT count(*)::text FROM pg_stat_activity WHERE pid = {backend}"),
    )
    .await
        != "0"
    {
        assert!(
            gone.elapsed() < Duration::from_secs(10),
            "the killed ingest's session {backend} is still there"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        query_text(
            &db,
            "SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory'
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        .await,
        "0",
        "an advisory lock outlived the killed ingest"
    );
    assert_eq!(
        content(&db).await,
        before,
        "the killed run changed the archive"
    );

    let mut rerun = Command::new(&ingest)
        .arg("--database-url")
        .arg(&test_db.url)
        .arg("--catalogue")
        .arg(catalogue_path())
        .arg(seeds_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", ingest.display()));
    let rerun_started = Instant::now();
    let status = wait_for(&mut rerun, Duration::from_secs(60), "the next ingest").await;
    let rerun_took = rerun_started.elapsed();
    let output = rerun
        .wait_with_output()
        .expect("cannot read the next ingest's output");
    assert!(
        status.success(),
        "the next ingest failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "40 releases: 0 inserted, 0 updated, 40 unchanged"
    );
    let mut after = content(&db).await;
    let runs = after.remove("ingest_run").unwrap_or_default();
    assert!(runs.starts_with("2 rows"), "ingest_run: {runs}");
    let mut expected = before;
    expected.remove("ingest_run");
    assert_eq!(after, expected);
    eprintln!(
        "killed ingest {killed_after:?} after its start, with its transaction open for 1 s or \
         more; the next run took {rerun_took:?}"
    );
}

#[test]
fn reader_urls_keep_server_and_options() {
    assert_eq!(
        with_user(
            "postgres://postgres@127.0.0.1:5432/db?sslmode=disable",
            "ro",
            "pw"
        ),
        "postgres://ro:pw@127.0.0.1:5432/db?sslmode=disable"
    );
    assert_eq!(
        with_user("postgres://u:p@db/x", "ro", "pw"),
        "postgres://ro:pw@db/x"
    );
    assert_eq!(
        with_user("postgres://db:5432/x", "ro", "pw"),
        "postgres://ro:pw@db:5432/x"
    );
}
