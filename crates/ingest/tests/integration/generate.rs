//! The corpus generator: deterministic output, listings the parser and the loader accept, the
//! advertised shares of summaries, credits, dates and tags, and the split into files.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use ingest::catalogue::Catalogue;
use ingest::generate::{GenerateError, GenerateOptions, generate};
use ingest::parse::{ParsedRelease, parse_listing};
use ingest::tag::Tagger;

use crate::{ingest, repo_root};

fn options(releases: u64, seed: u64, out: &Path, releases_per_file: u64) -> GenerateOptions {
    GenerateOptions {
        releases,
        seed,
        out: out.to_path_buf(),
        releases_per_file,
    }
}

/// The generated files in name order, with their bytes.
fn read_corpus(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// Every release of the corpus, file by file in name order.
fn parse_corpus(dir: &Path) -> Vec<Vec<ParsedRelease>> {
    read_corpus(dir)
        .into_iter()
        .map(|(name, bytes)| parse_listing(Path::new(&name), &bytes).unwrap())
        .collect()
}

fn share(count: usize, total: usize) -> f64 {
    count as f64 / total as f64
}

#[test]
fn same_seed_gives_identical_bytes_and_another_seed_differs() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    let first = generate(&options(3_000, 7, &a, 1_000)).unwrap();
    generate(&options(3_000, 7, &b, 1_000)).unwrap();
    generate(&options(3_000, 8, &c, 1_000)).unwrap();

    assert_eq!(first.files.len(), 3);
    let (a, b, c) = (read_corpus(&a), read_corpus(&b), read_corpus(&c));
    assert_eq!(a.len(), 3);
    assert!(a == b, "same seed, same options: byte-identical files");
    for ((name, a), (_, c)) in a.iter().zip(&c) {
        assert_ne!(a, c, "{name} should differ for another seed");
    }
    assert_eq!(
        first.bytes,
        a.iter().map(|(_, bytes)| bytes.len() as u64).sum::<u64>()
    );
}

#[test]
fn corpus_parses_with_the_advertised_shares() {
    let dir = tempfile::tempdir().unwrap();
    generate(&options(2_000, 42, dir.path(), 800)).unwrap();
    let files = parse_corpus(dir.path());
    let releases: Vec<&ParsedRelease> = files.iter().flatten().collect();
    assert_eq!(releases.len(), 2_000);

    let total = releases.len();
    let without_summary = releases.iter().filter(|r| r.summary.is_none()).count();
    let with_credit = releases.iter().filter(|r| r.image_credit.is_some()).count();
    assert!(
        (0.10..=0.20).contains(&share(without_summary, total)),
        "{without_summary} of {total} without summary"
    );
    assert!(
        (0.05..=0.15).contains(&share(with_credit, total)),
        "{with_credit} of {total} with a credit line"
    );
    assert!(
        releases
            .iter()
            .filter_map(|r| r.image_credit.as_deref())
            .all(|credit| credit.starts_with("© "))
    );

    // Dates: within 2000..=2026, newest first through the files in name order, and some days
    // with several releases.
    let (first_day, last_day) = (
        NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
        NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
    );
    assert!(
        releases
            .iter()
            .all(|r| (first_day..=last_day).contains(&r.published_on))
    );
    assert!(
        releases
            .windows(2)
            .all(|pair| pair[0].published_on >= pair[1].published_on),
        "newest first"
    );
    let mut per_day: HashMap<NaiveDate, usize> = HashMap::new();
    for release in &releases {
        *per_day.entry(release.published_on).or_default() += 1;
    }
    assert!(
        per_day.values().any(|&n| n >= 3),
        "some day has several releases"
    );
    let years: std::collections::HashSet<_> = releases
        .iter()
        .map(|r| chrono::Datelike::year(&r.published_on))
        .collect();
    assert!(years.len() >= 25, "spread over the years: {years:?}");

    // Tagging has work to do: programmes in a third or so, other offices in about a tenth, and
    // near-misses (lowercase "score") that must not tag.
    let catalogue = Catalogue::load(&repo_root().join("seeds/catalogue.toml")).unwrap();
    let tagger = Tagger::new(&catalogue).unwrap();
    let tags: Vec<_> = releases
        .iter()
        .map(|r| tagger.tag_release(&r.title, r.summary.as_deref(), "beijing"))
        .collect();
    let with_programme = tags.iter().filter(|t| !t.programmes.is_empty()).count();
    let with_two = tags.iter().filter(|t| t.programmes.len() >= 2).count();
    let with_office = tags.iter().filter(|t| t.offices.len() >= 2).count();
    assert!(
        (0.20..=0.50).contains(&share(with_programme, total)),
        "{with_programme} of {total} with a programme"
    );
    assert!(
        (0.02..=0.10).contains(&share(with_two, total)),
        "{with_two} of {total} with two programmes"
    );
    assert!(
        (0.05..=0.20).contains(&share(with_office, total)),
        "{with_office} of {total} with another office"
    );
    let near_misses: Vec<_> = releases
        .iter()
        .zip(&tags)
        .filter(|(r, _)| {
            r.summary
                .as_deref()
                .is_some_and(|s| s.contains(" score ") && !s.contains("SCORE"))
                && !r.title.contains("SCORE")
        })
        .collect();
    assert!(!near_misses.is_empty(), "lowercase `score` near-misses");
    for (release, tags) in near_misses {
        assert!(
            tags.programmes
                .iter()
                .all(|t| t.slug != "score" || t.matched_alias.as_deref() != Some("SCORE")),
            "lowercase score tagged: {release:?}"
        );
    }

    // The natural key (date + normalised title) rarely repeats.
    let keys: std::collections::HashSet<_> = releases
        .iter()
        .map(|r| model::release_id(r.published_on, &r.title))
        .collect();
    assert!(keys.len() >= 1_990, "{} distinct keys", keys.len());

    // Titles and summaries have seed-like lengths.
    let mean_words = |texts: Vec<&str>| {
        texts
            .iter()
            .map(|t| t.split_whitespace().count())
            .sum::<usize>() as f64
            / texts.len() as f64
    };
    let title_words = mean_words(releases.iter().map(|r| r.title.as_str()).collect());
    let summary_words = mean_words(
        releases
            .iter()
            .filter_map(|r| r.summary.as_deref())
            .collect(),
    );
    assert!((8.0..=20.0).contains(&title_words), "{title_words}");
    assert!((20.0..=60.0).contains(&summary_words), "{summary_words}");
}

#[test]
fn files_respect_releases_per_file_and_stale_files_go() {
    let dir = tempfile::tempdir().unwrap();
    let report = generate(&options(2_000, 1, dir.path(), 300)).unwrap();
    let names: Vec<String> = read_corpus(dir.path())
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        names,
        (1..=7)
            .map(|n| format!("generated-{n:04}.txt"))
            .collect::<Vec<_>>()
    );
    assert_eq!(report.files.len(), 7);
    let counts: Vec<usize> = parse_corpus(dir.path()).iter().map(Vec::len).collect();
    assert_eq!(counts, [300, 300, 300, 300, 300, 300, 200]);
    for (_, bytes) in read_corpus(dir.path()) {
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("News and press releases\n\nThis is a list of official ILO"));
        assert!(text.contains("\n\n\n  1. "), "sections restart at 1");
        assert!(!text.contains("  21. "), "sections of at most 20");
    }

    // A smaller run into the same folder leaves exactly its own files.
    std::fs::write(dir.path().join("notes.txt"), "kept").unwrap();
    generate(&options(2_000, 1, dir.path(), 1_000)).unwrap();
    let names: Vec<String> = read_corpus(dir.path())
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        names,
        ["generated-0001.txt", "generated-0002.txt", "notes.txt"]
    );
}

#[test]
fn empty_requests_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        generate(&options(0, 1, dir.path(), 10)),
        Err(GenerateError::NoReleases)
    ));
    assert!(matches!(
        generate(&options(10, 1, dir.path(), 0)),
        Err(GenerateError::NoReleasesPerFile)
    ));
}

#[test]
fn cli_generates_a_corpus_that_ingest_loads() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("corpus");
    let out_arg = out.to_str().unwrap();
    let generated = ingest(&[
        "generate",
        "--releases",
        "1200",
        "--seed",
        "5",
        "--out",
        out_arg,
        "--releases-per-file",
        "500",
    ]);
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let line = String::from_utf8_lossy(&generated.stdout).into_owned();
    assert!(
        line.starts_with("1200 releases in 3 files (")
            && line.ends_with(&format!(" MB) written to {out_arg}\n")),
        "{line}"
    );

    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("g.sqlite").display()
    );
    let loaded = ingest(&["--migrate", "--database-url", &url, out_arg]);
    assert!(
        loaded.status.success(),
        "{}",
        String::from_utf8_lossy(&loaded.stderr)
    );
    let report = String::from_utf8_lossy(&loaded.stdout).into_owned();
    let releases: usize = report
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{report}"));
    assert!((1_190..=1_200).contains(&releases), "{report}");
    assert!(
        report.ends_with(&format!(": {releases} inserted, 0 updated, 0 unchanged\n")),
        "{report}"
    );

    let refused = ingest(&["generate", "--releases", "0", "--out", out_arg]);
    assert!(!refused.status.success());
}
