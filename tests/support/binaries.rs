//! The workspace's own binaries (`api`, `ingest`), for tests that run them as separate processes:
//! `target/<profile>/<name>` beside the `deps/` folder the test runs from. `cargo test
//! --workspace` builds them; one that is missing or older than its sources (a stale one may not
//! know the newest migrations) is built here first.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::SystemTime;

use crate::repo_root;

/// The `ingest` binary of this build.
pub fn ingest_binary() -> PathBuf {
    workspace_binary(
        "ingest",
        &[
            "crates/ingest/src",
            "crates/ingest/Cargo.toml",
            "crates/model",
            "migrations",
            "Cargo.lock",
        ],
    )
}

/// The `api` binary of this build.
pub fn api_binary() -> PathBuf {
    workspace_binary(
        "api",
        &[
            "crates/api/src",
            "crates/api/assets",
            "crates/api/templates",
            "crates/api/Cargo.toml",
            "crates/database",
            "crates/ingest/src",
            "crates/model",
            "migrations",
            "Cargo.lock",
        ],
    )
}

/// Binary `name` of package `name`, built first when missing or older than any of `sources`
/// (paths relative to the repository root).
fn workspace_binary(name: &str, sources: &[&str]) -> PathBuf {
    let exe = std::env::current_exe().expect("no current executable");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("{} is not in target/<profile>/deps", exe.display()));
    let binary = profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let root = repo_root();
    let built = std::fs::metadata(&binary).and_then(|m| m.modified()).ok();
    let sources = sources
        .iter()
        .filter_map(|path| newest_modification(&root.join(path)))
        .max();
    if built.is_none() || sources > built {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut build = Command::new(cargo);
        build
            .args(["build", "--quiet", "-p", name, "--bin", name])
            .current_dir(&root);
        if profile_dir.ends_with("release") {
            build.arg("--release");
        }
        let status = build
            .status()
            .unwrap_or_else(|e| panic!("cannot run cargo to build the {name} binary: {e}"));
        assert!(
            status.success() && binary.is_file(),
            "could not build {}: run `cargo build -p {name} --bin {name}` first",
            binary.display()
        );
    }
    binary
}

fn newest_modification(path: &Path) -> Option<SystemTime> {
    let own = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let children = std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| newest_modification(&entry.path()));
    own.into_iter().chain(children).max()
}

/// An `api` process of the test's own, on a free port; stopped when dropped.
#[derive(Debug)]
pub struct ApiProcess {
    child: Child,
    /// Its GraphQL endpoint, as it printed it.
    pub graphql: String,
}

impl ApiProcess {
    /// Starts `binary` with `args` and `--bind 127.0.0.1:0 --log-level warn`, and waits until it
    /// prints the address it listens on.
    pub fn start<S: AsRef<OsStr>>(binary: &Path, args: &[S]) -> ApiProcess {
        let mut child = Command::new(binary)
            .args(args)
            .args(["--bind", "127.0.0.1:0", "--log-level", "warn"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let stdout = child.stdout.take().expect("the api's stdout");
        let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
        let graphql = lines
            .find_map(|line| {
                line.ok()?
                    .strip_prefix("GraphQL playground: ")
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| panic!("the api did not print its address"));
        // Whatever else it prints is drained, so that it never writes to a closed pipe.
        std::thread::spawn(move || lines.for_each(drop));
        ApiProcess { child, graphql }
    }
}

impl Drop for ApiProcess {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}
