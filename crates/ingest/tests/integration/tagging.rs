//! Data-driven tagging tests: every `[[case]]` of every `tests/tagging/*.toml` is tagged with
//! the seed catalogue (`seeds/catalogue.toml`) and compared with its expected slugs. A new
//! case is a new entry or file, not new code. All failures are reported together.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ingest::catalogue::Catalogue;
use ingest::tag::{ReleaseTags, Tag, Tagger};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// What the case is about, shown when it fails.
    #[serde(default)]
    name: Option<String>,
    title: String,
    #[serde(default)]
    summary: Option<String>,
    /// Office slug of the listing's publisher.
    #[serde(default = "default_publisher")]
    publisher: String,
    /// Expected programme slugs, in any order.
    programmes: Vec<String>,
    /// Expected office slugs (including the publisher), in any order.
    offices: Vec<String>,
    /// Optional expected explanations: slug → the catalogue alias that matched, or "" for
    /// the publishing office tagged without an alias.
    #[serde(default)]
    matched_aliases: BTreeMap<String, String>,
}

fn default_publisher() -> String {
    "beijing".to_owned()
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn case_files() -> Vec<PathBuf> {
    let dir = manifest_dir().join("tests/tagging");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    files
}

fn sorted(mut slugs: Vec<String>) -> Vec<String> {
    slugs.sort();
    slugs
}

fn slugs(tags: &[Tag]) -> Vec<String> {
    tags.iter().map(|tag| tag.slug.clone()).collect()
}

fn check(case: &Case, tags: &ReleaseTags) -> Vec<String> {
    let mut problems = Vec::new();
    for (what, actual, expected) in [
        ("programmes", &tags.programmes, &case.programmes),
        ("offices", &tags.offices, &case.offices),
    ] {
        let actual = slugs(actual);
        let expected = sorted(expected.clone());
        if actual != expected {
            problems.push(format!("{what}: expected {expected:?}, got {actual:?}"));
        }
        let mut sorted_unique = actual.clone();
        sorted_unique.dedup();
        if sorted(actual.clone()) != actual || sorted_unique != actual {
            problems.push(format!("{what} not sorted and unique: {actual:?}"));
        }
    }
    for (slug, alias) in &case.matched_aliases {
        let expected = (!alias.is_empty()).then(|| alias.clone());
        match tags
            .programmes
            .iter()
            .chain(&tags.offices)
            .find(|tag| &tag.slug == slug)
        {
            Some(tag) if tag.matched_alias == expected => {}
            Some(tag) => problems.push(format!(
                "{slug}: expected matched alias {expected:?}, got {:?}",
                tag.matched_alias
            )),
            None => problems.push(format!("{slug}: not tagged, so no matched alias")),
        }
    }
    problems
}

#[test]
fn tagging_cases() {
    let catalogue = Catalogue::load(&manifest_dir().join("../../seeds/catalogue.toml")).unwrap();
    let tagger = Tagger::new(&catalogue).unwrap();

    let files = case_files();
    assert!(!files.is_empty(), "no tests/tagging/*.toml case files");
    let mut failures = String::new();
    let mut count = 0;
    for file in &files {
        let text =
            std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let cases: CaseFile =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for (index, case) in cases.case.iter().enumerate() {
            count += 1;
            let tags = tagger.tag_release(&case.title, case.summary.as_deref(), &case.publisher);
            let problems = check(case, &tags);
            if !problems.is_empty() {
                let name = file_name(file);
                let label = case.name.as_deref().unwrap_or(&case.title);
                writeln!(failures, "{name} case {} ({label}):", index + 1).unwrap();
                for problem in problems {
                    writeln!(failures, "    {problem}").unwrap();
                }
                writeln!(failures, "    tags: {tags:?}").unwrap();
            }
        }
    }
    assert!(failures.is_empty(), "tagging cases failed:\n{failures}");
    assert!(count >= 40, "only {count} cases found");
}

/// The seed case file must hold exactly the releases of the seed listings.
#[test]
fn seed_cases_cover_all_seed_releases() {
    let text = std::fs::read_to_string(manifest_dir().join("tests/tagging/seeds.toml")).unwrap();
    let cases: CaseFile = toml::from_str(&text).unwrap();
    assert_eq!(cases.case.len(), 40);
    let mut listings = String::new();
    for entry in std::fs::read_dir(manifest_dir().join("../../seeds")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "txt") {
            listings.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
    for case in &cases.case {
        assert!(
            listings.contains(&case.title),
            "not in seeds: {}",
            case.title
        );
        if let Some(summary) = &case.summary {
            assert!(listings.contains(summary), "not in seeds: {summary}");
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}
