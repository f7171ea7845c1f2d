//! The `api` binary as a new user first runs it: from a directory that holds nothing of the
//! repository, with no configuration. It must serve the 40 seed releases built into it, and a
//! start that fails must leave no half-made archive behind.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "in tests a failed expectation is a failure, reported with its message"
)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// How long the server may take to migrate, load the seeds and listen.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The binary started in `dir` with `args`, its environment cleared of the server's settings.
fn api(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_api"));
    command.args(args).current_dir(dir);
    for variable in [
        "DATABASE_URL",
        "CATALOGUE",
        "INGEST_PATHS",
        "BIND_ADDR",
        "PUBLIC_URL",
        "RUST_BACKTRACE",
    ] {
        command.env_remove(variable);
    }
    command
}

/// A running server; killed when dropped.
struct Server {
    child: Child,
    base_url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the server in `dir` on a free port and waits for the address it prints.
fn start(dir: &Path) -> Server {
    let mut child = api(dir, &["--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the api binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("Explorer:") {
                let _ = sender.send(url.trim().trim_end_matches('/').to_owned());
            }
        }
    });
    let base_url = receiver
        .recv_timeout(START_TIMEOUT)
        .expect("the server prints where the explorer is once it listens");
    Server { child, base_url }
}

#[tokio::test]
async fn serves_the_built_in_seeds_from_any_directory() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let client = reqwest::Client::new();
    let body: Value = client
        .post(format!("{}/graphql", server.base_url))
        .json(&serde_json::json!({
            "query": "{ releases(first: 1) { totalCount nodes { slug title } } programmes { slug } }"
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"]["releases"]["totalCount"], 40, "{body}");
    assert!(
        body["data"]["programmes"]
            .as_array()
            .is_some_and(|programmes| !programmes.is_empty()),
        "the built-in catalogue was not loaded: {body}"
    );
    let slug = body["data"]["releases"]["nodes"][0]["slug"]
        .as_str()
        .unwrap();
    let title = body["data"]["releases"]["nodes"][0]["title"]
        .as_str()
        .unwrap();
    let page = client
        .get(format!("{}/releases/{slug}", server.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains(title), "the release page lacks its title");
    assert!(
        dir.path().join("archive.sqlite").exists(),
        "the embedded archive is the working directory's archive.sqlite"
    );
}

#[test]
fn a_failed_first_start_leaves_no_archive_behind() {
    let dir = tempfile::tempdir().unwrap();
    let output = api(
        dir.path(),
        &["--bind", "127.0.0.1:0", "--ingest", "missing.txt"],
    )
    .output()
    .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("missing.txt"),
        "the error names the file:\n{stderr}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "a failed start left {left:?} behind");
}

#[test]
fn help_says_where_files_are_looked_up() {
    let dir = tempfile::tempdir().unwrap();
    let output = api(dir.path(), &["--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert!(help.contains("built into the binary"), "{help}");
    assert!(help.contains("relative to the working directory"), "{help}");
}
