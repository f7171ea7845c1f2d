//! Real GraphQL clients against the real server over PostgreSQL: the GraphQL-over-HTTP audit,
//! Apollo Client, the schema diff against `schema.graphql` and a headless browser. Each test runs
//! a Node script from `clients/` and fails with its output. The clients' packages are installed
//! on first use (`npm ci --prefix clients`) when `clients/node_modules` is missing or stale.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use integration_tests::app::{TestApp, spawn_app};
use integration_tests::clients::{clients_dir, ensure_installed};
use integration_tests::prerequisites::chromium;
use integration_tests::{Backend, TestDatabase, repo_root};
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
    run_client_with_env(script, args, &[]).await
}

/// [`run_client`] with these environment variables set for the script.
async fn run_client_with_env(script: &str, args: &[OsString], env: &[(&str, &OsStr)]) -> Output {
    // The first client test installs the packages; the others wait for it.
    tokio::task::spawn_blocking(ensure_installed)
        .await
        .unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()));
    let dir = clients_dir();
    let mut command = Command::new("node");
    command
        .arg(dir.join(script))
        .args(args)
        .envs(env.iter().copied())
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
    client_passes_with_env(script, args, &[]).await
}

/// [`client_passes`] with these environment variables set for the script.
async fn client_passes_with_env(script: &str, args: &[OsString], env: &[(&str, &OsStr)]) -> String {
    let output = run_client_with_env(script, args, env).await;
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
    let (_database, app) = seeded_server().await;
    let artifacts = repo_root().join("target").join("client-artifacts");
    std::fs::create_dir_all(&artifacts)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", artifacts.display()));
    client_passes_with_env(
        "browser.mjs",
        &[arg(&app.base_url), arg(&artifacts)],
        &[("CHROMIUM_PATH", chromium.as_os_str())],
    )
    .await;
}
