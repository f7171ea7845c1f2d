//! The `ingest` command as a user runs it: dry-run output, the closing summary line,
//! exit codes, and errors that name the file and line.

use std::process::Output;

use serde_json::Value;

use crate::ingest;

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn dry_run_prints_one_json_object_per_seed_release() {
    let output = ingest(&["--dry-run"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let releases: Vec<Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect();
    assert_eq!(releases.len(), 40);
    for release in &releases {
        for field in [
            "title",
            "publishedOn",
            "summary",
            "imageCredit",
            "programmes",
            "offices",
            "source",
        ] {
            assert!(release.get(field).is_some(), "{field} missing in {release}");
        }
        assert!(
            release["offices"]
                .as_array()
                .is_some_and(|o| o.iter().any(|s| s == "beijing"))
        );
    }
    let wages = releases
        .iter()
        .find(|r| r["title"] == "Global wage growth falls to its lowest level in four years")
        .expect("wage release present");
    assert_eq!(wages["publishedOn"], "2016-12-15");
    assert_eq!(wages["imageCredit"], "© T.Aljibe / AFP 2023");
    assert_eq!(
        wages["source"]["file"],
        "ilo-beijing-press-releases-2016-2017.txt"
    );
    assert_eq!(wages["source"]["line"], 85);
    assert!(
        output.stderr.is_empty(),
        "nothing on stderr: {}",
        stderr(&output)
    );
}

#[test]
fn dry_run_writes_nothing_and_needs_no_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("never.sqlite");
    let url = format!("sqlite://{}?mode=rwc", db.display());
    let output = ingest(&["--dry-run", "--database-url", &url]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!db.exists(), "dry run must not create the database");
}

#[test]
fn loads_then_reports_everything_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("a.sqlite").display()
    );
    let first = ingest(&["--migrate", "--database-url", &url]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(
        stdout(&first),
        "40 releases: 40 inserted, 0 updated, 0 unchanged\n"
    );
    let second = ingest(&["--database-url", &url, "seeds"]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(
        stdout(&second),
        "40 releases: 0 inserted, 0 updated, 40 unchanged\n"
    );
}

#[test]
fn unmigrated_database_is_refused_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("b.sqlite").display()
    );
    let output = ingest(&["--database-url", &url]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("--migrate"), "{}", stderr(&output));
    assert!(stdout(&output).is_empty());
}

#[test]
fn bad_listing_fails_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "News\n\n  1. Title\n\n    24 Juen 2021\n").unwrap();
    let output = ingest(&["--dry-run", bad.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains(&format!("{}:5:", bad.display())),
        "{message}"
    );
    assert!(message.to_lowercase().contains("month"), "{message}");
    assert!(stdout(&output).is_empty(), "no partial output");
}

#[test]
fn a_database_failure_during_the_load_is_told_once_with_its_cause() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.sqlite");
    let migrated = ingest(&[
        "--migrate",
        "--database-url",
        &format!("sqlite://{}?mode=rwc", path.display()),
    ]);
    assert!(migrated.status.success(), "{}", stderr(&migrated));

    // Opened read-only, the database refuses the run's first write.
    let output = ingest(&[
        "--database-url",
        &format!("sqlite://{}?mode=ro", path.display()),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.starts_with("error: the database failed: "),
        "{message}"
    );
    assert_eq!(
        message
            .matches("attempt to write a readonly database")
            .count(),
        1,
        "the cause is told once: {message}"
    );
    assert!(stdout(&output).is_empty(), "no summary line: {message}");
}

#[test]
fn missing_path_and_unreachable_database_are_clear_errors() {
    let output = ingest(&["--dry-run", "no/such/listing.txt"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("no/such/listing.txt"),
        "{}",
        stderr(&output)
    );

    let output = ingest(&[
        "--database-url",
        "postgres://nobody:secret@127.0.0.1:1/archive",
    ]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("cannot connect"), "{message}");
    assert!(
        !message.contains("secret"),
        "credentials stay out of errors: {message}"
    );
}

/// Started anywhere, `ingest` without paths reads the seeds built into it, exactly as the
/// repository's `seeds/` folder reads.
#[test]
fn the_built_in_seeds_are_the_repositorys_from_any_directory() {
    let elsewhere = tempfile::tempdir().expect("a temporary directory");
    let built_in = std::process::Command::new(env!("CARGO_BIN_EXE_ingest"))
        .arg("--dry-run")
        .current_dir(elsewhere.path())
        .env_remove("DATABASE_URL")
        .env_remove("CATALOGUE")
        .output()
        .expect("ingest runs");
    assert!(built_in.status.success(), "{}", stderr(&built_in));
    let from_files = ingest(&["--dry-run", "seeds", "--catalogue", "seeds/catalogue.toml"]);
    assert!(from_files.status.success(), "{}", stderr(&from_files));
    assert_eq!(stdout(&built_in).lines().count(), 40);
    assert_eq!(
        stdout(&built_in),
        stdout(&from_files),
        "the built-in seeds differ from seeds/"
    );
    assert!(
        std::fs::read_dir(elsewhere.path()).map_or(0, Iterator::count) == 0,
        "a dry run wrote into the working directory"
    );
}
