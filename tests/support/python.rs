//! The Python clients in `clients/` (feedparser and the sitemap's XML Schema validation, for
//! `clients/feeds.py`; kubernetes-validate, for the manifests of `deploy/`), installed on first
//! use into a virtual environment under `target/`:
//! `cargo test` alone runs them on a machine with Python 3 and its `venv` module. Every package
//! comes from PyPI, pinned with its hash in `clients/requirements.txt`.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use crate::clients::clients_dir;
use crate::repo_root;

/// Written into the environment after an install: the SHA-256 of the requirements it installed.
const STAMP: &str = ".installed-requirements-sha256";

/// Held while one process checks and installs (see `clients.rs`).
const INSTALL_LOCK: &str = ".install.lock";

/// The environment's folder.
pub fn venv_dir() -> PathBuf {
    repo_root().join("target").join("python-clients")
}

/// The environment's interpreter, with the packages of `clients/requirements.txt` installed
/// (creating the environment and installing them when missing or pinned differently). Once per
/// process; blocks while another process installs. Panics with one line when Python 3 or its
/// `venv` module is missing, with pip's output when the install fails.
pub fn python() -> PathBuf {
    static INSTALLED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match INSTALLED.get_or_init(|| install(&venv_dir(), &clients_dir())) {
        Ok(python) => python.clone(),
        Err(message) => panic!("{message}"),
    }
}

fn install(venv: &Path, clients: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(venv).map_err(|e| format!("cannot create {}: {e}", venv.display()))?;
    let lock_path = venv.join(INSTALL_LOCK);
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("cannot open {}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;

    let requirements = clients.join("requirements.txt");
    let wanted = std::fs::read(&requirements)
        .map(|bytes| hex(&Sha256::digest(bytes)))
        .map_err(|e| format!("cannot read {}: {e}", requirements.display()))?;
    let python = venv.join("bin").join("python");
    let stamp = venv.join(STAMP);
    if python.exists()
        && std::fs::read_to_string(&stamp).is_ok_and(|installed| installed.trim() == wanted)
    {
        return Ok(python);
    }

    if !python.exists() {
        run(
            Command::new("python3").arg("-m").arg("venv").arg(venv),
            "python3 -m venv target/python-clients",
            "Python 3 with its venv module is needed for the feed and deploy tests: install it \
             (Debian: `apt-get install python3 python3-venv`)",
        )?;
    }
    std::fs::remove_file(&stamp).ok();
    run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args([
                "--no-input",
                "--no-deps",
                "--require-hashes",
                "--only-binary",
                ":all:",
            ])
            .arg("-r")
            .arg(&requirements),
        "pip install -r clients/requirements.txt",
        "pip could not install the pinned packages",
    )?;
    std::fs::write(&stamp, format!("{wanted}\n"))
        .map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
    Ok(python)
    // The lock is released when `lock` is dropped.
}

/// Runs `command` to the end; its output in the error when it fails.
fn run(command: &mut Command, shown: &str, hint: &str) -> Result<(), String> {
    eprintln!("installing the Python clients: {shown}");
    let output = command
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `{shown}` ({e}): {hint}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "`{shown}` failed ({}): {hint}\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
