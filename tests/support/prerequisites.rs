//! What the tests need from the machine, checked before first use: PostgreSQL for the database
//! tests, Node.js and npm for the client tests, Chromium for the browser test. A missing one
//! fails the test with one line saying how to install or start it, instead of a driver error
//! further down. Each check runs once per test process.

use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// Where PostgreSQL is looked for when `TEST_DATABASE_URL` is not set.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The oldest Node.js the clients run on (`engines` in `clients/package.json`).
pub const MIN_NODE_MAJOR: u32 = 20;

/// Where Debian installs Chromium, and where `clients/browser.mjs` looks without `CHROMIUM_PATH`.
pub const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

/// How long the reachability check waits for PostgreSQL to accept a TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The PostgreSQL server the tests create their databases on: `TEST_DATABASE_URL`, else
/// [`DEFAULT_POSTGRES_URL`]. `DATABASE_URL`, which a user may have set for the server, is
/// ignored: the tests create and drop databases wherever this points.
pub fn test_database_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| DEFAULT_POSTGRES_URL.to_owned())
}

/// `host:port` of a `postgres://` URL, without user or password, for messages and the
/// reachability check; `None` for a URL without host (a Unix socket).
pub fn server_address(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host_port)| host_port);
    if host_port.is_empty() {
        return None;
    }
    let has_port = match host_port.rfind(']') {
        Some(bracket) => host_port[bracket..].contains(':'),
        None => host_port.contains(':'),
    };
    Some(if has_port {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    })
}

/// The server of `url` as messages name it.
pub fn server_of(url: &str) -> String {
    server_address(url).unwrap_or_else(|| "the local socket".to_owned())
}

/// Panics with one line saying how to start PostgreSQL unless the server of
/// [`test_database_url`] accepts TCP connections.
pub fn require_postgres() {
    static CHECKED: OnceLock<Result<(), String>> = OnceLock::new();
    if let Err(line) = CHECKED.get_or_init(|| check_postgres(&test_database_url())) {
        panic!("{line}");
    }
}

fn check_postgres(url: &str) -> Result<(), String> {
    let Some(address) = server_address(url) else {
        return Ok(()); // a Unix socket: the driver's own error is clear enough
    };
    let unreachable = |cause: String| {
        format!(
            "PostgreSQL is not reachable at {address} ({cause}): start it with \
             `pg_ctlcluster 15 main start` or set TEST_DATABASE_URL to a server where this user \
             may create databases"
        )
    };
    let addresses: Vec<_> = address
        .to_socket_addrs()
        .map_err(|e| unreachable(e.to_string()))?
        .collect();
    let mut last_error = String::from("the name has no address");
    for socket in addresses {
        match TcpStream::connect_timeout(&socket, CONNECT_TIMEOUT) {
            Ok(_) => return Ok(()),
            Err(error) => last_error = error.to_string(),
        }
    }
    Err(unreachable(last_error))
}

/// Panics with one line saying how to install Node.js unless `node` runs and is new enough.
pub fn require_node() {
    static CHECKED: OnceLock<Result<(), String>> = OnceLock::new();
    if let Err(line) = CHECKED.get_or_init(check_node) {
        panic!("{line}");
    }
}

/// `Err` with one line saying how to install Node.js unless `node` runs and is new enough.
pub fn check_node() -> Result<(), String> {
    let install = format!(
        "install Node.js {MIN_NODE_MAJOR} or newer with npm (e.g. `apt-get install nodejs npm`) \
         to run the client tests"
    );
    let output = Command::new("node")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("Node.js is not installed (`node`: {e}): {install}"))?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let major = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|major| major.parse::<u32>().ok());
    match major {
        _ if !output.status.success() => Err(format!(
            "Node.js does not run (`node --version` failed with {}): {install}",
            output.status
        )),
        Some(major) if major >= MIN_NODE_MAJOR => Ok(()),
        _ => Err(format!(
            "Node.js {version} is too old for the client tests: {install}"
        )),
    }
}

/// `Err` with one line saying how to install npm unless `npm` runs.
pub fn check_npm() -> Result<(), String> {
    let output = Command::new("npm")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            format!(
                "npm is not installed (`npm`: {e}): install it with Node.js (e.g. \
                 `apt-get install npm`); the client tests then install their packages themselves"
            )
        })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "npm does not run (`npm --version` exited with {}): reinstall it with Node.js \
             {MIN_NODE_MAJOR} or newer",
            output.status
        ))
    }
}

/// The Chromium the browser test drives: `CHROMIUM_PATH` if set, else [`DEFAULT_CHROMIUM`], else
/// `chromium` or `chromium-browser` on `PATH`. Panics with one line saying how to install it.
pub fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("CHROMIUM_PATH").filter(|path| !path.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "CHROMIUM_PATH is {}, which is not a file: point it at a Chromium or Chrome binary, \
             or unset it to use {DEFAULT_CHROMIUM}",
            path.display()
        );
        return path;
    }
    let default = Path::new(DEFAULT_CHROMIUM);
    if default.is_file() {
        return default.to_path_buf();
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .flat_map(|dir| [dir.join("chromium"), dir.join("chromium-browser")])
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "Chromium is not installed (no {DEFAULT_CHROMIUM}, no `chromium` on PATH): \
                 install it with `apt-get install chromium` or set CHROMIUM_PATH to a Chromium \
                 or Chrome binary"
            )
        })
}
