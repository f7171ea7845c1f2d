//! A PgBouncer of a test's own in front of a test [`Cluster`]: Debian's `pgbouncer` (1.18) on a
//! free loopback port, in the pooling mode the test asks for, with a small server pool so that
//! clients really share server connections. Stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::cluster::{Cluster, free_port, running_as_root};

/// Where Debian installs it.
pub const DEFAULT_PGBOUNCER: &str = "/usr/sbin/pgbouncer";

/// A running PgBouncer.
#[derive(Debug)]
pub struct Pgbouncer {
    port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

impl Pgbouncer {
    /// PgBouncer in `pool_mode` (`transaction`, `session`) in front of database `database` of
    /// `cluster`, with at most `server_connections` connections to it. The program is taken from
    /// `PGBOUNCER` if set, else [`DEFAULT_PGBOUNCER`].
    pub fn start(
        cluster: &Cluster,
        database: &str,
        pool_mode: &str,
        server_connections: u32,
    ) -> Pgbouncer {
        Pgbouncer::start_with(cluster, database, pool_mode, server_connections, "")
    }

    /// [`Pgbouncer::start`] with more `[pgbouncer]` settings (lines of `key = value`).
    pub fn start_with(
        cluster: &Cluster,
        database: &str,
        pool_mode: &str,
        server_connections: u32,
        settings: &str,
    ) -> Pgbouncer {
        let program = std::env::var_os("PGBOUNCER")
            .map_or_else(|| PathBuf::from(DEFAULT_PGBOUNCER), PathBuf::from);
        assert!(
            program.is_file(),
            "{} is missing: install PgBouncer (`apt-get install pgbouncer`) or set PGBOUNCER",
            program.display()
        );
        let dir = tempfile::Builder::new()
            .prefix("pgbouncer-")
            .tempdir()
            .expect("a folder for PgBouncer");
        let port = free_port();
        let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
        let config = format!(
            "[databases]\n\
             {database} = host=127.0.0.1 port={upstream} dbname={database} user=postgres\n\
             [pgbouncer]\n\
             listen_addr = 127.0.0.1\n\
             listen_port = {port}\n\
             unix_socket_dir =\n\
             auth_type = trust\n\
             auth_file = {users}\n\
             pool_mode = {pool_mode}\n\
             default_pool_size = {server_connections}\n\
             max_client_conn = 500\n\
             logfile = {log}\n\
             pidfile = {pid}\n\
             {settings}\n",
            upstream = cluster.port(),
            users = path("users.txt"),
            log = path("pgbouncer.log"),
            pid = path("pgbouncer.pid"),
        );
        std::fs::write(dir.path().join("pgbouncer.ini"), config).expect("pgbouncer.ini");
        std::fs::write(dir.path().join("users.txt"), "\"postgres\" \"\"\n").expect("users.txt");
        // PgBouncer refuses to run as root.
        let mut command = if running_as_root() {
            let chown = Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(dir.path())
                .status()
                .expect("chown runs");
            assert!(
                chown.success(),
                "cannot give {} to postgres",
                dir.path().display()
            );
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&program);
            command
        } else {
            Command::new(&program)
        };
        let child = command
            .arg(dir.path().join("pgbouncer.ini"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let bouncer = Pgbouncer { port, child, dir };
        bouncer.until_listening();
        bouncer
    }

    /// URL of the pooled database as `postgres`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// What PgBouncer logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pgbouncer.log")).unwrap_or_default()
    }

    fn until_listening(&self) {
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "PgBouncer did not listen on port {} within 10 s:\n{}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The folder of its configuration and log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Pgbouncer {
    fn drop(&mut self) {
        // PgBouncer itself, by its pid file: under runuser, killing the child would leave it.
        let pid =
            std::fs::read_to_string(self.dir.path().join("pgbouncer.pid")).unwrap_or_default();
        if let Ok(pid) = pid.trim().parse::<u32>() {
            Command::new("kill").arg(pid.to_string()).status().ok();
        }
        self.child.kill().ok();
        self.child.wait().ok();
    }
}
