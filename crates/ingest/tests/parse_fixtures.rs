//! Data-driven tests for `ingest::parse`.
//!
//! `tests/listings/NAME.txt` is parsed under its bare file name and compared with the sibling
//! `NAME.json` (the releases, serialised as the parser's camelCase JSON) or `NAME.error` (the
//! error exactly as `Display` prints it; one trailing newline is ignored). Adding a case means
//! adding files. The real seed listings in `../../seeds/` are checked against
//! `tests/expected/NAME.json`, written by hand.

use std::fmt;
use std::path::Path;

use ingest::parse::{ParsedRelease, parse_listing};
use serde_json::Value;

/// Prints the message verbatim: the runner shows failures with `{:?}`, which would escape the
/// multi-line diffs below into one unreadable line.
struct Failure(String);

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failure {}

fn fail<T>(message: impl Into<String>) -> datatest_stable::Result<T> {
    Err(Box::new(Failure(message.into())))
}

/// Parses under the bare file name so error text does not depend on where the tests run.
fn parse(path: &Path, bytes: &[u8]) -> Result<Vec<ParsedRelease>, String> {
    let name = path.file_name().map(Path::new).unwrap_or(path);
    parse_listing(name, bytes).map_err(|err| err.to_string())
}

fn read(path: &Path) -> datatest_stable::Result<String> {
    std::fs::read_to_string(path)
        .or_else(|err| fail(format!("cannot read {}: {err}", path.display())))
}

fn fixture(path: &Path, bytes: Vec<u8>) -> datatest_stable::Result<()> {
    let json = path.with_extension("json");
    let error = path.with_extension("error");
    let parsed = parse(path, &bytes);
    match (json.exists(), error.exists()) {
        (true, false) => match parsed {
            Ok(releases) => compare(&releases, &read(&json)?),
            Err(err) => fail(format!("expected releases, got error:\n  {err}")),
        },
        (false, true) => {
            let expected = read(&error)?;
            let expected = expected.strip_suffix('\n').unwrap_or(&expected);
            match parsed {
                Err(err) if err == expected => Ok(()),
                Err(err) => fail(format!(
                    "wrong error\n  expected: {expected}\n  actual:   {err}"
                )),
                Ok(releases) => fail(format!(
                    "expected error\n  {expected}\nbut parsed {} release(s)",
                    releases.len()
                )),
            }
        }
        (true, true) => fail(format!(
            "{} has both a .json and an .error file: keep exactly one",
            path.display()
        )),
        (false, false) => fail(format!(
            "{} needs a sibling .json (expected releases) or .error (expected message)",
            path.display()
        )),
    }
}

/// The seed listings and how many releases each holds, counted by hand; 40 in all.
const SEEDS: [(&str, usize); 2] = [
    ("ilo-beijing-press-releases-2016-2017.txt", 20),
    ("ilo-beijing-press-releases-2020-2021.txt", 20),
];
const _: () = assert!(SEEDS[0].1 + SEEDS[1].1 == 40);

fn seed(path: &Path, bytes: Vec<u8>) -> datatest_stable::Result<()> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let Some(&(_, count)) = SEEDS.iter().find(|(seed, _)| *seed == name) else {
        return fail(format!(
            "{name} is not a known seed listing: add it to SEEDS"
        ));
    };
    let releases = match parse(path, &bytes) {
        Ok(releases) => releases,
        Err(err) => return fail(format!("seed listing rejected:\n  {err}")),
    };
    if releases.len() != count {
        return fail(format!(
            "{name}: expected {count} releases, parsed {}",
            releases.len()
        ));
    }
    let expected = Path::new("tests/expected")
        .join(name)
        .with_extension("json");
    compare(&releases, &read(&expected)?)
}

/// Compares field by field so a failure names the release and the field that differ.
fn compare(releases: &[ParsedRelease], expected_json: &str) -> datatest_stable::Result<()> {
    let expected: Vec<Value> = serde_json::from_str(expected_json)?;
    let actual: Vec<Value> = releases
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()?;
    let mut problems = Vec::new();
    if actual.len() != expected.len() {
        problems.push(format!(
            "expected {} releases, parsed {}",
            expected.len(),
            actual.len()
        ));
    }
    for (index, (actual, expected)) in actual.iter().zip(&expected).enumerate() {
        for field in ["title", "publishedOn", "summary", "imageCredit", "line"] {
            if actual.get(field) != expected.get(field) {
                problems.push(format!(
                    "release #{} (expected line {}): {field}\n    expected: {}\n    actual:   {}",
                    index + 1,
                    expected.get("line").unwrap_or(&Value::Null),
                    expected.get(field).unwrap_or(&Value::Null),
                    actual.get(field).unwrap_or(&Value::Null),
                ));
            }
        }
        // Catches typos in hand-written files, which would otherwise compare as missing.
        let unknown: Vec<_> = expected
            .as_object()
            .into_iter()
            .flat_map(|object| object.keys())
            .filter(|key| actual.get(key.as_str()).is_none())
            .collect();
        if !unknown.is_empty() {
            problems.push(format!("release #{}: unknown keys {unknown:?}", index + 1));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        fail(problems.join("\n"))
    }
}

datatest_stable::harness! {
    { test = fixture, root = "tests/listings", pattern = r"\.txt$" },
    { test = seed, root = "../../seeds", pattern = r"^ilo-beijing-press-releases-.*\.txt$" },
}
