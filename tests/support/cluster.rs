//! A throwaway PostgreSQL 15 cluster of a test's own, in a temporary folder on a free port, that
//! the test may stop and start again: for fault tests that take the database away under load.
//! It is stopped and deleted when dropped, also when the test panics. [`Cluster::standby_of`]
//! makes a hot standby of one (`pg_basebackup -R`), streaming from it, for replica tests.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Where Debian and Ubuntu install the PostgreSQL 15 server programs.
pub const DEFAULT_POSTGRES_BIN: &str = "/usr/lib/postgresql/15/bin";

/// The OS user that runs the cluster when the tests run as root (PostgreSQL refuses root).
const CLUSTER_OS_USER: &str = "postgres";

/// How `stop` shuts the server down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// Sessions are ended, then a clean shutdown (a planned restart).
    Fast,
    /// Every process is killed at once, as in a crash; the next start recovers from the WAL.
    Immediate,
}

/// A PostgreSQL cluster owned by one test. `url(db)` connects as `postgres` (trust auth).
#[derive(Debug)]
pub struct Cluster {
    port: u16,
    bin: PathBuf,
    dir: tempfile::TempDir,
    /// Run the server programs as `postgres` (when the tests run as root).
    as_postgres: bool,
}

impl Cluster {
    /// Creates and starts a cluster. The server programs are taken from `POSTGRES_BIN` if set,
    /// else from [`DEFAULT_POSTGRES_BIN`].
    pub fn start() -> Cluster {
        let cluster = Cluster::unstarted();
        let data = cluster.data_dir();
        cluster.run_checked(
            "initdb",
            &[
                "--pgdata",
                &data.to_string_lossy(),
                "--username",
                "postgres",
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--locale",
                "C.UTF-8",
                "--no-sync",
            ],
        );
        cluster.start_server();
        cluster
    }

    /// A hot standby of `primary` on a port of its own: a base backup taken with
    /// `pg_basebackup -R` (so it streams from `primary` as soon as it starts), replaying
    /// `apply_delay` behind the primary when given (`recovery_min_apply_delay`).
    pub fn standby_of(primary: &Cluster, apply_delay: Option<std::time::Duration>) -> Cluster {
        let standby = Cluster::unstarted();
        let data = standby.data_dir();
        standby.run_checked(
            "pg_basebackup",
            &[
                "--host",
                "127.0.0.1",
                "--port",
                &primary.port.to_string(),
                "--username",
                "postgres",
                "--pgdata",
                &data.to_string_lossy(),
                "--write-recovery-conf",
                "--wal-method",
                "stream",
                "--checkpoint",
                "fast",
                "--no-sync",
            ],
        );
        if let Some(delay) = apply_delay {
            let settings = data.join("postgresql.auto.conf");
            let mut text = std::fs::read_to_string(&settings)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", settings.display()));
            text.push_str(&format!(
                "recovery_min_apply_delay = '{}ms'\n",
                delay.as_millis()
            ));
            std::fs::write(&settings, text)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", settings.display()));
        }
        standby.start_server();
        standby
    }

    /// A folder for a cluster (owned by the user that will run it) and a free port.
    fn unstarted() -> Cluster {
        let bin = std::env::var_os("POSTGRES_BIN")
            .map_or_else(|| PathBuf::from(DEFAULT_POSTGRES_BIN), PathBuf::from);
        assert!(
            has_server_programs(&bin),
            "initdb and pg_ctl are not in {}: install PostgreSQL 15 \
             (`apt-get install postgresql-15`) or set POSTGRES_BIN to its bin folder",
            bin.display()
        );
        let dir = tempfile::Builder::new()
            .prefix("pg-cluster-")
            .tempdir()
            .expect("a folder for the cluster");
        let as_postgres = running_as_root();
        if as_postgres {
            // PostgreSQL refuses to run as root; the folder must belong to the user that runs it.
            let chown = Command::new("chown")
                .arg(format!("{CLUSTER_OS_USER}:"))
                .arg(dir.path())
                .output()
                .expect("chown runs");
            assert!(
                chown.status.success(),
                "cannot give {} to the `{CLUSTER_OS_USER}` user: {}",
                dir.path().display(),
                String::from_utf8_lossy(&chown.stderr)
            );
        }
        Cluster {
            port: free_port(),
            bin,
            dir,
            as_postgres,
        }
    }

    /// The port the server listens on (the same across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// URL of database `database` as the superuser `postgres`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Stops the server and waits until it is down; the data stays for [`Cluster::restart`].
    pub fn stop(&self, mode: StopMode) {
        let mode = match mode {
            StopMode::Fast => "fast",
            StopMode::Immediate => "immediate",
        };
        let data = self.data_dir();
        self.run_checked(
            "pg_ctl",
            &[
                "stop",
                "--pgdata",
                &data.to_string_lossy(),
                "--wait",
                "--mode",
                mode,
            ],
        );
    }

    /// Starts the stopped server again on the same port and data.
    pub fn restart(&self) {
        self.start_server();
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn start_server(&self) {
        let data = self.data_dir();
        let log = self.dir.path().join("server.log");
        // Only loopback TCP and a socket in our own folder: nothing clashes with another server.
        // fsync is off: the data is thrown away, and a crash of the machine is not what is tested.
        // pg_stat_statements counts, as each statement ends, what each server ran: how replica
        // tests see where reads went.
        let options = format!(
            "-c port={} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off \
             -c shared_preload_libraries=pg_stat_statements",
            self.port,
            self.dir.path().display()
        );
        self.run_checked(
            "pg_ctl",
            &[
                "start",
                "--pgdata",
                &data.to_string_lossy(),
                "--wait",
                "--timeout",
                "60",
                "--log",
                &log.to_string_lossy(),
                "-o",
                &options,
            ],
        );
    }

    /// Runs a server program (as `postgres` when we are root) and panics with its output and
    /// the server log if it fails.
    fn run_checked(&self, program: &str, args: &[&str]) {
        let output = self.run(program, args);
        if !output.status.success() {
            let log =
                std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
            panic!(
                "{program} {} failed ({}):\n{}{}\nserver log:\n{log}",
                args.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
            );
        }
    }

    fn run(&self, program: &str, args: &[&str]) -> Output {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", CLUSTER_OS_USER, "--"]).arg(&path);
            command
        } else {
            Command::new(&path)
        };
        command
            .args(args)
            // The server must not inherit our pipes, or waiting for the output would wait for it.
            .stdin(Stdio::null())
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Whatever state the test left it in: the folder goes with `dir` right after.
        if self.data_dir().join("postmaster.pid").exists() {
            let data = self.data_dir();
            let output = self.run(
                "pg_ctl",
                &[
                    "stop",
                    "--pgdata",
                    &data.to_string_lossy(),
                    "--wait",
                    "--mode",
                    "immediate",
                ],
            );
            if !output.status.success() && self.data_dir().join("postmaster.pid").exists() {
                eprintln!(
                    "warning: could not stop the test cluster in {}: {}",
                    self.dir.path().display(),
                    String::from_utf8_lossy(&output.stderr)
                );
            }
        }
    }
}

pub(crate) fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

/// A port nobody listens on right now (the OS picks it; the listener is closed at once).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// Whether `path` holds a PostgreSQL server's programs (for a clear message before starting).
pub fn has_server_programs(path: &Path) -> bool {
    path.join("initdb").is_file() && path.join("pg_ctl").is_file()
}
