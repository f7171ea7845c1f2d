//! The `ingest` crate's tests beyond its unit tests, as one test binary: the command as a user
//! runs it (`cli`), the corpus generator, parser properties, the second read of the listings,
//! and the data-driven tagging cases. (The data-driven parser fixtures are `parse_fixtures`,
//! a binary of its own with the `datatest-stable` harness.)

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "in tests a failed expectation is a failure, reported with its message"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod cli;
mod generate;
mod parse_props;
mod rescan;
mod tagging;

/// The repository root (where `seeds/` lives).
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `ingest` from the repository root with a clean environment for its settings.
fn ingest(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ingest"))
        .args(args)
        .current_dir(repo_root())
        .env_remove("DATABASE_URL")
        .env_remove("CATALOGUE")
        .output()
        .expect("ingest runs")
}
