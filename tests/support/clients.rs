//! The Node clients in `clients/` (the GraphQL-over-HTTP audit, Apollo Client, the schema diff,
//! the headless browser), installed on first use: `cargo test` alone runs them on a machine
//! with Node.js and npm.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use crate::prerequisites::{check_node, check_npm};
use crate::repo_root;

/// Written into `clients/node_modules` after an install: the SHA-256 of the
/// `package-lock.json` it installed. `npm ci` deletes `node_modules` first, so a failed or
/// interrupted install leaves no stamp.
const STAMP: &str = ".installed-lock-sha256";

/// Held while one process checks and installs, so that parallel test processes (`cargo nextest`
/// runs every test in its own) install once. Ignored by git (`clients/.gitignore`).
const INSTALL_LOCK: &str = ".install.lock";

/// The command that installs the clients, as messages show it.
pub const INSTALL_COMMAND: &str = "npm ci --prefix clients --no-audit --no-fund";

pub fn clients_dir() -> PathBuf {
    repo_root().join("clients")
}

/// Makes sure `node` runs and `clients/node_modules` holds what `clients/package-lock.json`
/// pins, running `npm ci --prefix clients --no-audit --no-fund` when it is missing or was
/// installed from another lock file. Once per process; blocks while another process installs.
/// Panics with one line when Node.js or npm is missing, with npm's output when it fails.
pub fn ensure_installed() {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    if let Err(message) = INSTALLED.get_or_init(|| install(&clients_dir())) {
        panic!("{message}");
    }
}

fn install(dir: &Path) -> Result<(), String> {
    check_node()?;
    let lock_path = dir.join(INSTALL_LOCK);
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("cannot open {}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;

    let lock_file = dir.join("package-lock.json");
    let wanted = std::fs::read(&lock_file)
        .map(|bytes| hex(&Sha256::digest(bytes)))
        .map_err(|e| format!("cannot read {}: {e}", lock_file.display()))?;
    let stamp = dir.join("node_modules").join(STAMP);
    if std::fs::read_to_string(&stamp).is_ok_and(|installed| installed.trim() == wanted) {
        return Ok(());
    }

    check_npm()?;
    eprintln!("installing the Node clients: {INSTALL_COMMAND}");
    let output = Command::new("npm")
        .arg("ci")
        .arg("--prefix")
        .arg(dir)
        .args(["--no-audit", "--no-fund"])
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `{INSTALL_COMMAND}`: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`{INSTALL_COMMAND}` failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    std::fs::write(&stamp, format!("{wanted}\n"))
        .map_err(|e| format!("cannot write {}: {e}", stamp.display()))
    // The lock is released when `lock` is dropped.
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
