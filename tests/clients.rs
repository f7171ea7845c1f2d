//! Real GraphQL clients against the real server over PostgreSQL: the GraphQL-over-HTTP audit,
//! Apollo Client, the schema diff against `schema.graphql`, a headless browser, and live
//! updates through graphql-ws (WebSocket) and graphql-sse (Server-Sent Events). Each test runs
//! a Node script from `clients/` and fails with its output. The clients' packages are installed
//! on first use (`npm ci --prefix clients`) when `clients/node_modules` is missing or stale.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use api::AppState;
use api::ops::archive_changes::ArchiveChanges;
use api::ops::limits::SubscriptionLimits;
use integration_tests::app::{
    TestApp, load_listings, spawn_app, spawn_app_with_state, with_search_index_following,
};
use integration_tests::clients::{clients_dir, ensure_installed};
use integration_tests::prerequisites::chromium;
use integration_tests::{Backend, TestDatabase, repo_root};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

/// Longer than any script needs on a loaded 2-core machine, short enough to end a hung client.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(180);

/// A server with the seed listings over a fresh PostgreSQL database (kept alive with it).
async fn seeded_server() -> (TestDatabase, TestApp) {
    let database = TestDatabase::new(Backend::Postgres).await;
    let app = spawn_app(&database).await;
    (database, app)
}

/// Runs `node clients/<script> <args>` and returns what it printed, whatever its exit status.
async fn run_client(script: &str, args: &[OsString]) -> Output {
    // The first client test installs the packages; the others wait for it.
    tokio::task::spawn_blocking(ensure_installed)
        .await
        .unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()));
    let dir = clients_dir();
    let mut command = Command::new("node");
    command
        .arg(dir.join(script))
        .args(args)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(CLIENT_TIMEOUT, command.output())
        .await
        .unwrap_or_else(|_| panic!("node {script} ran longer than {CLIENT_TIMEOUT:?}"))
        .expect("cannot run `node` (is Node.js 20 or newer installed?)");
    // Shown with --nocapture: the tables of what each client checked.
    println!(
        "$ node clients/{script}\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
    output
}

fn describe(script: &str, output: &Output) -> String {
    format!(
        "node clients/{script} exited with {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs a client script that must succeed; returns its stdout.
async fn client_passes(script: &str, args: &[OsString]) -> String {
    let output = run_client(script, args).await;
    assert!(output.status.success(), "{}", describe(script, &output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn arg(value: impl Into<OsString>) -> OsString {
    value.into()
}

#[tokio::test]
async fn graphql_over_http_audit_passes() {
    let (_database, app) = seeded_server().await;
    let stdout = client_passes("audit.mjs", &[arg(&app.base_url)]).await;
    assert!(
        stdout.contains("conformant"),
        "the audit printed no verdict:\n{stdout}"
    );
}

#[tokio::test]
async fn apollo_client_pages_filters_and_normalises() {
    let (_database, app) = seeded_server().await;
    let stdout = client_passes("apollo.mjs", &[arg(&app.base_url)]).await;
    assert!(
        stdout.contains("3 Apollo Client checks passed"),
        "Apollo Client did not report its three checks:\n{stdout}"
    );
}

#[tokio::test]
async fn served_schema_matches_the_published_one_or_the_changelog() {
    let (_database, app) = seeded_server().await;
    client_passes("schema-diff.mjs", &[arg(&app.base_url)]).await;
}

/// `schema.graphql` with `field` (SDL, e.g. `pressContact: String`) added to `type Release`.
fn published_schema_with_release_field(field: &str) -> String {
    let published = std::fs::read_to_string(repo_root().join("schema.graphql"))
        .expect("schema.graphql can be read");
    let opening = "type Release implements Node {\n";
    assert!(
        published.contains(opening),
        "schema.graphql has no `{}`",
        opening.trim()
    );
    published.replacen(opening, &format!("{opening}\t{field}\n"), 1)
}

/// `schema.graphql` without the field declared by `line` (and its description) in `type Release`.
fn published_schema_without_release_field(line: &str) -> String {
    let published = std::fs::read_to_string(repo_root().join("schema.graphql"))
        .expect("schema.graphql can be read");
    let release = published
        .find("type Release implements Node {")
        .expect("schema.graphql has a type Release");
    let field = published[release..]
        .find(&format!("\n\t{line}\n"))
        .map(|offset| release + offset)
        .unwrap_or_else(|| panic!("type Release in schema.graphql has no `{line}`"));
    // The field's description is the `"""` block just before it; it goes too.
    let description = published[..field]
        .rfind("\n\t\"\"\"\n\t")
        .filter(|&start| published[start..field].matches("\"\"\"").count() == 2)
        .unwrap_or_else(|| panic!("`{line}` has no description block in schema.graphql"));
    format!(
        "{}{}",
        &published[..description],
        &published[field + line.len() + 2..]
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    path
}

#[tokio::test]
async fn schema_diff_refuses_an_unannounced_breaking_change() {
    let (_database, app) = seeded_server().await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let base = arg(&app.base_url);
    let schema_flag = arg("--schema");
    let changelog_flag = arg("--changelog");

    // A published field the server no longer serves: removed, which breaks clients.
    let published = write(
        dir.path(),
        "published.graphql",
        &published_schema_with_release_field("pressContact: String"),
    );
    let no_changelog = write(dir.path(), "CHANGELOG.md", "# Changelog\n\n## Unreleased\n");
    let output = run_client(
        "schema-diff.mjs",
        &[
            base.clone(),
            schema_flag.clone(),
            arg(&published),
            changelog_flag.clone(),
            arg(&no_changelog),
        ],
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("Release.pressContact"),
        "the removed field Release.pressContact was not refused by name:\n{}",
        describe("schema-diff.mjs", &output)
    );

    // Announced in a released version only: still refused, the announcement belongs to Unreleased.
    let old_announcement = write(
        dir.path(),
        "CHANGELOG-released.md",
        "# Changelog\n\n## Unreleased\n\n## 0.1.0\n\n### Breaking\n\n- `Release.pressContact` removed.\n",
    );
    let output = run_client(
        "schema-diff.mjs",
        &[
            base.clone(),
            schema_flag.clone(),
            arg(&published),
            changelog_flag.clone(),
            arg(&old_announcement),
        ],
    )
    .await;
    assert!(
        !output.status.success(),
        "a breaking change announced under 0.1.0 instead of Unreleased passed:\n{}",
        describe("schema-diff.mjs", &output)
    );

    // Announced under Unreleased / Breaking: accepted.
    let announced = write(
        dir.path(),
        "CHANGELOG-announced.md",
        "# Changelog\n\n## Unreleased\n\n### Breaking\n\n- `Release.pressContact` is removed: \
         ask the office for press contacts.\n\n## 0.1.0\n",
    );
    let stdout = client_passes(
        "schema-diff.mjs",
        &[
            base.clone(),
            schema_flag.clone(),
            arg(&published),
            changelog_flag.clone(),
            arg(&announced),
        ],
    )
    .await;
    assert!(
        stdout.contains("breaking: 1"),
        "the announced change was not listed as breaking:\n{stdout}"
    );

    // A field the published schema lacks is one the server added: safe, no announcement needed.
    let older = write(
        dir.path(),
        "older.graphql",
        &published_schema_without_release_field("summary: String"),
    );
    let stdout = client_passes(
        "schema-diff.mjs",
        &[
            base,
            schema_flag,
            arg(&older),
            changelog_flag,
            arg(&no_changelog),
        ],
    )
    .await;
    assert!(
        stdout.contains("breaking: 0") && stdout.contains("Release.summary"),
        "a field added by the server was not listed as a safe change:\n{stdout}"
    );
}

#[tokio::test]
async fn browser_shows_the_explorer_and_the_playground() {
    let chromium = chromium();
    // A server that follows the archive's changes, for the notice of new releases.
    let (_database, app, state) = live_server(SubscriptionLimits::default()).await;
    let artifacts = repo_root().join("target").join("client-artifacts");
    std::fs::create_dir_all(&artifacts)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", artifacts.display()));
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut script = DrivenScript::start(
        "browser.mjs",
        &[arg(&app.base_url), arg(&artifacts), arg("--ingest")],
        &[("CHROMIUM_PATH", chromium.as_os_str())],
    )
    .await;
    while let Some((name, args)) = script.step().await {
        let reply = match name.as_str() {
            // The explorer's page is the only one open: once the server counts its
            // subscription alone, a release ingested now reaches it.
            "subscribed" => {
                let count = args.first().and_then(|n| n.parse().ok()).unwrap_or(1);
                until_subscriptions_are(&state, count).await;
                // What an operator sees of it: one subscription on one SSE connection.
                let metrics = app.get("/metrics").await.text().await.unwrap_or_default();
                for (name, expected) in [
                    ("pressroom_subscriptions", count),
                    ("pressroom_subscription_connections", count),
                ] {
                    let line = format!("{name} {expected}");
                    assert!(
                        metrics.lines().any(|l| l == line),
                        "/metrics lacks `{line}`:\n{metrics}"
                    );
                }
                serde_json::json!({})
            }
            // One release of the SCORE programme and one of none, published on `date`.
            "ingest" => {
                let date = args
                    .first()
                    .and_then(|date| chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok())
                    .unwrap_or_else(|| panic!("STEP ingest needs a date, not {args:?}"));
                let day = date.format("%d %B %Y").to_string();
                let matching = "SCORE trainers meet the factories of a new province".to_owned();
                let unrelated = "A seminar on labour statistics for journalists".to_owned();
                let listing = live_listing(
                    dir.path(),
                    "browser",
                    &[
                        (
                            matching.clone(),
                            day.as_str(),
                            "Trainers of the SCORE programme visit factories.".to_owned(),
                        ),
                        (
                            unrelated.clone(),
                            day.as_str(),
                            "Statisticians explain the figures.".to_owned(),
                        ),
                    ],
                );
                load_listings(&state.db, &[listing]).await;
                serde_json::json!({ "matching": matching, "unrelated": unrelated })
            }
            other => panic!("unexpected step {other}"),
        };
        script.reply(reply).await;
    }
    let printed = script.passes().await;
    assert!(
        printed.contains("counts a release published while the page is open"),
        "{printed}"
    );
}

/// A PostgreSQL archive with the seeds, served by a server that follows its changes within
/// `limits`; the state is kept to count subscriptions.
async fn live_server(limits: SubscriptionLimits) -> (TestDatabase, TestApp, AppState) {
    let database = TestDatabase::new(Backend::Postgres).await;
    let db = database.connect().await;
    load_listings(&db, &[integration_tests::seeds_dir()]).await;
    let changes = ArchiveChanges::follow(&db).expect("a listener on PostgreSQL");
    let state = AppState::new(db)
        .with_subscription_limits(limits)
        .following(&changes);
    for _ in 0..100 {
        if changes.is_listening() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Searching with an index kept in step with the archive, as the `api` binary does.
    let state = with_search_index_following(state, Some(&changes)).await;
    let app = spawn_app_with_state(state.clone()).await;
    (database, app, state)
}

/// `node clients/<script> <args>` driven step by step, while the test changes the archive: the
/// script prints `STEP <name> [args]` and waits for one JSON line on its stdin.
struct DrivenScript {
    script: &'static str,
    child: tokio::process::Child,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    stdin: tokio::process::ChildStdin,
    /// What the script wrote on stderr, read as it comes so that it never blocks on a full pipe.
    stderr: tokio::task::JoinHandle<String>,
    printed: String,
}

impl DrivenScript {
    /// `node clients/live.mjs <base> <scenario>`.
    async fn live(app: &TestApp, scenario: &str) -> DrivenScript {
        DrivenScript::start("live.mjs", &[arg(&app.base_url), arg(scenario)], &[]).await
    }

    async fn start(
        script: &'static str,
        args: &[OsString],
        env: &[(&str, &OsStr)],
    ) -> DrivenScript {
        tokio::task::spawn_blocking(ensure_installed)
            .await
            .unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()));
        let dir = clients_dir();
        let mut child = Command::new("node")
            .arg(dir.join(script))
            .args(args)
            .envs(env.iter().copied())
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("cannot run `node` (is Node.js 20 or newer installed?)");
        let stdout = child.stdout.take().expect("piped stdout");
        let stdin = child.stdin.take().expect("piped stdin");
        let mut stderr_pipe = child.stderr.take().expect("piped stderr");
        let stderr = tokio::spawn(async move {
            let mut text = String::new();
            stderr_pipe.read_to_string(&mut text).await.ok();
            text
        });
        DrivenScript {
            script,
            child,
            lines: BufReader::new(stdout).lines(),
            stdin,
            stderr,
            printed: String::new(),
        }
    }

    /// The next step the script asks for, `None` once it has finished.
    async fn step(&mut self) -> Option<(String, Vec<String>)> {
        loop {
            let line = tokio::time::timeout(CLIENT_TIMEOUT, self.lines.next_line())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "{} silent for {CLIENT_TIMEOUT:?}:\n{}",
                        self.script, self.printed
                    )
                })
                .expect("the script's output can be read")?;
            println!("{line}");
            self.printed.push_str(&line);
            self.printed.push('\n');
            if let Some(step) = line.strip_prefix("STEP ") {
                let mut words = step.split_whitespace().map(str::to_owned);
                let name = words.next().unwrap_or_default();
                return Some((name, words.collect()));
            }
        }
    }

    async fn reply(&mut self, answer: serde_json::Value) {
        self.stdin
            .write_all(format!("{answer}\n").as_bytes())
            .await
            .unwrap_or_else(|e| panic!("{} does not read its answers: {e}", self.script));
    }

    /// Waits for the script to exit; fails with what it printed unless it passed.
    async fn passes(mut self) -> String {
        let script = self.script;
        // What it prints after its last step (its verdict) is kept too.
        while let Some(line) = tokio::time::timeout(CLIENT_TIMEOUT, self.lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("{script} does not end"))
            .unwrap_or_else(|e| panic!("{script}'s output cannot be read: {e}"))
        {
            println!("{line}");
            self.printed.push_str(&line);
            self.printed.push('\n');
        }
        let status = tokio::time::timeout(CLIENT_TIMEOUT, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("{script} does not end"))
            .unwrap_or_else(|e| panic!("{script} cannot be waited for: {e}"));
        let stderr = self.stderr.await.unwrap_or_default();
        assert!(
            status.success(),
            "{script} failed ({status}):\n{}{stderr}",
            self.printed
        );
        self.printed
    }
}

/// Waits until the server counts exactly `n` subscriptions following live changes (those of
/// pages closed before have ended).
async fn until_subscriptions_are(state: &AppState, n: usize) {
    for _ in 0..400 {
        if state.live.subscriptions() == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "the server counts {} subscriptions, not {n}, after 10 s",
        state.live.subscriptions()
    );
}

/// Waits until the server counts `n` subscriptions following live changes.
async fn until_subscribed(state: &AppState, n: usize) {
    for _ in 0..400 {
        if state.live.subscriptions() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "the server counts {} subscriptions, not {n}, after 10 s",
        state.live.subscriptions()
    );
}

/// A listing published by the Beijing office with `items` (title, date, summary).
fn live_listing(dir: &Path, name: &str, items: &[(String, &str, String)]) -> PathBuf {
    let mut text = String::from("News and press releases\n\n");
    for (number, (title, date, summary)) in items.iter().enumerate() {
        text.push_str(&format!(
            "  {}. {title}\n\n    {date}\n\n    {summary}\n\n",
            number + 1
        ));
    }
    write(dir, &format!("ilo-beijing-{name}.txt"), &text)
}

fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|since| since.as_millis())
        .unwrap_or_default()
}

#[tokio::test]
async fn live_releases_reach_websocket_and_sse_clients_within_a_second_and_only_if_they_match() {
    let (_database, app, state) = live_server(SubscriptionLimits::default()).await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut script = DrivenScript::live(&app, "deliver").await;
    while let Some((name, args)) = script.step().await {
        assert_eq!(name, "subscribed", "unexpected step {name}");
        let count = args.first().and_then(|n| n.parse().ok()).unwrap_or(1);
        until_subscribed(&state, count).await;
        let listing = live_listing(
            dir.path(),
            "deliver",
            &[
                (
                    "SCORE factories share what works".to_owned(),
                    "10 January 2024",
                    "Factories in the SCORE programme compare notes.".to_owned(),
                ),
                (
                    "Herders of the Gobi prepare for winter".to_owned(),
                    "11 January 2024",
                    "Herders store fodder.".to_owned(),
                ),
                (
                    "A meeting on statistics".to_owned(),
                    "12 January 2024",
                    "Statisticians meet.".to_owned(),
                ),
            ],
        );
        load_listings(&state.db, &[listing]).await;
        script
            .reply(serde_json::json!({ "committedAt": now_ms() }))
            .await;
    }
    let printed = script.passes().await;
    assert!(
        printed.contains("deliver: 8 live checks passed"),
        "{printed}"
    );
}

#[tokio::test]
async fn live_clients_that_reconnect_with_after_miss_nothing_and_get_nothing_twice() {
    let (_database, app, state) = live_server(SubscriptionLimits::default()).await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut script = DrivenScript::live(&app, "resume").await;
    while let Some((name, args)) = script.step().await {
        match name.as_str() {
            "subscribed" => {
                let count = args.first().and_then(|n| n.parse().ok()).unwrap_or(1);
                until_subscribed(&state, count).await;
            }
            "ingest" => {
                let label = args.first().cloned().unwrap_or_default();
                let listing = live_listing(
                    dir.path(),
                    &format!("resume-{label}"),
                    &[(
                        format!("Resumed release {label}"),
                        "01 June 2023",
                        "A summary.".to_owned(),
                    )],
                );
                load_listings(&state.db, &[listing]).await;
            }
            other => panic!("unexpected step {other}"),
        }
        script.reply(serde_json::json!({})).await;
    }
    let printed = script.passes().await;
    assert!(
        printed.contains("resume: 5 live checks passed"),
        "{printed}"
    );
}

#[tokio::test]
async fn subscription_limits_refuse_with_their_documented_codes() {
    let limits = SubscriptionLimits {
        max_subscriptions_per_connection: 2,
        max_subscription_connections: 3,
        connection_init_timeout_ms: 500,
        keepalive_interval_ms: 500,
        ..SubscriptionLimits::default()
    };
    let (_database, app, state) = live_server(limits).await;
    let mut script = DrivenScript::live(&app, "limits").await;
    while let Some((name, args)) = script.step().await {
        assert_eq!(name, "subscribed", "unexpected step {name}");
        let count = args.first().and_then(|n| n.parse().ok()).unwrap_or(1);
        until_subscribed(&state, count).await;
        script.reply(serde_json::json!({})).await;
    }
    let printed = script.passes().await;
    assert!(
        printed.contains("limits: 11 live checks passed"),
        "{printed}"
    );
}

#[tokio::test]
async fn a_slow_client_is_cut_off_and_the_others_get_everything() {
    const COMMITS: usize = 6;
    const PER_COMMIT: usize = 500;
    let limits = SubscriptionLimits {
        max_queued_events: 20,
        keepalive_interval_ms: 120_000,
        ..SubscriptionLimits::default()
    };
    let (_database, app, state) = live_server(limits).await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut script = DrivenScript::live(&app, "slow").await;
    // Large enough that the server's socket buffers fill long before the last commit.
    let padding =
        "Workers, employers and governments discussed the findings at length. ".repeat(40);
    while let Some((name, args)) = script.step().await {
        match name.as_str() {
            "subscribed" => {
                let count = args.first().and_then(|n| n.parse().ok()).unwrap_or(1);
                until_subscribed(&state, count).await;
                script.reply(serde_json::json!({})).await;
            }
            "ingest-many" => {
                for commit in 0..COMMITS {
                    let items: Vec<(String, &str, String)> = (0..PER_COMMIT)
                        .map(|n| {
                            (
                                format!("Bulk release {commit}-{n}"),
                                "02 March 2024",
                                padding.clone(),
                            )
                        })
                        .collect();
                    let listing = live_listing(dir.path(), &format!("bulk-{commit}"), &items);
                    load_listings(&state.db, &[listing]).await;
                }
                script
                    .reply(serde_json::json!({ "releases": COMMITS * PER_COMMIT }))
                    .await;
            }
            other => panic!("unexpected step {other}"),
        }
    }
    let printed = script.passes().await;
    assert!(printed.contains("slow: 2 live checks passed"), "{printed}");
}
