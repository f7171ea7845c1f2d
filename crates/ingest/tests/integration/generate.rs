//! The corpus generator: deterministic output, listings the parser and the loader accept, the
//! advertised shares of summaries, credits, dates and tags, a vocabulary that grows like real
//! text, seed-like lengths, no two releases with one id, and the split into files.

use std::collections::{HashMap, HashSet};
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
    // (releases, releases per file, seed, files)
    let cases: [(u64, u64, u64, usize); 4] = [
        (3_000, 1_000, 7, 3),
        (1, 1, 0, 1),
        (2_500, 600, u64::MAX, 5),
        (9_862, 9_862, 42, 1),
    ];
    for (releases, per_file, seed, files) in cases {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (
            dir.path().join("a"),
            dir.path().join("b"),
            dir.path().join("c"),
        );
        let first = generate(&options(releases, seed, &a, per_file)).unwrap();
        generate(&options(releases, seed, &b, per_file)).unwrap();
        generate(&options(releases, seed.wrapping_add(1), &c, per_file)).unwrap();

        assert_eq!(first.files.len(), files);
        let (a, b, c) = (read_corpus(&a), read_corpus(&b), read_corpus(&c));
        assert_eq!(a.len(), files);
        assert!(
            a == b,
            "{releases} releases, seed {seed}: byte-identical files"
        );
        for ((name, a), (_, c)) in a.iter().zip(&c) {
            assert_ne!(a, c, "{name} should differ for another seed");
        }
        assert_eq!(
            first.bytes,
            a.iter().map(|(_, bytes)| bytes.len() as u64).sum::<u64>()
        );
    }
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
    let years: HashSet<_> = releases
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

    // The natural key (date + normalised title) never repeats: every release is one row.
    let keys: HashSet<_> = releases
        .iter()
        .map(|r| model::release_id(r.published_on, &r.title))
        .collect();
    assert_eq!(keys.len(), releases.len(), "two releases share an id");
}

/// Words as the vocabulary counts them: runs of letters, case-folded.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Distinct words of the titles and summaries of a corpus of `releases` releases (seed 42), and
/// how many times each occurs.
fn vocabulary(releases: u64) -> HashMap<String, usize> {
    let dir = tempfile::tempdir().unwrap();
    generate(&options(releases, 42, dir.path(), 50_000)).unwrap();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for release in parse_corpus(dir.path()).iter().flatten() {
        let text = [Some(release.title.as_str()), release.summary.as_deref()];
        for word in text.into_iter().flatten().flat_map(words) {
            *counts.entry(word).or_default() += 1;
        }
    }
    counts
}

#[test]
fn vocabulary_grows_with_the_corpus_like_real_text() {
    // Heaps' law: distinct words grow as a power (about 0.4 to 0.7 in real text) of the
    // corpus size, with no ceiling; the seed listings alone hold about 650.
    let small = vocabulary(2_000);
    let large = vocabulary(20_000);
    let (v_small, v_large) = (small.len() as f64, large.len() as f64);
    let exponent = (v_large / v_small).ln() / 10f64.ln();
    assert!(
        v_small > 5_000.0,
        "{v_small} distinct words in 2,000 releases"
    );
    assert!(
        (0.35..=0.8).contains(&exponent),
        "{v_small} then {v_large} distinct words: exponent {exponent:.2}"
    );

    // Zipf: a few words are everywhere, most are rare; about half the words occur once.
    let mut frequencies: Vec<usize> = large.values().copied().collect();
    frequencies.sort_unstable_by(|a, b| b.cmp(a));
    let total: usize = frequencies.iter().sum();
    let once = frequencies.iter().filter(|&&n| n == 1).count();
    assert!(
        (0.3..=0.7).contains(&share(once, frequencies.len())),
        "{once} of {} words occur once",
        frequencies.len()
    );
    assert!(
        share(frequencies[..100].iter().sum(), total) > 0.3,
        "the hundred most frequent words are a large share of the text"
    );
    // The long tail holds names of people, places and organisations and English words.
    for word in ["zhang", "beijing", "federation", "batbayar"] {
        assert!(large.contains_key(word), "{word} missing");
    }
}

#[test]
fn lengths_follow_the_seed_listings() {
    // Seeds (40 releases): title words median 11, mean 11.7; summary words median 36, mean 40.7.
    let dir = tempfile::tempdir().unwrap();
    generate(&options(5_000, 3, dir.path(), 5_000)).unwrap();
    let releases: Vec<ParsedRelease> = parse_corpus(dir.path()).into_iter().flatten().collect();
    let lengths = |texts: Vec<&str>| {
        let mut lengths: Vec<usize> = texts.iter().map(|t| t.split_whitespace().count()).collect();
        lengths.sort_unstable();
        let mean = lengths.iter().sum::<usize>() as f64 / lengths.len() as f64;
        (lengths[lengths.len() / 2], mean)
    };
    let (title_median, title_mean) = lengths(releases.iter().map(|r| r.title.as_str()).collect());
    let (summary_median, summary_mean) = lengths(
        releases
            .iter()
            .filter_map(|r| r.summary.as_deref())
            .collect(),
    );
    assert!(
        (10..=13).contains(&title_median),
        "title median {title_median}"
    );
    assert!(
        (10.5..=13.5).contains(&title_mean),
        "title mean {title_mean}"
    );
    assert!(
        (32..=42).contains(&summary_median),
        "summary median {summary_median}"
    );
    assert!(
        (37.0..=46.0).contains(&summary_mean),
        "summary mean {summary_mean}"
    );
}

#[test]
fn busy_days_never_repeat_a_title() {
    // 30,000 releases on 9,862 days, a fifth of them on the day before's date: days with many
    // releases, whose titles must all differ (the id is the date and the normalised title).
    let dir = tempfile::tempdir().unwrap();
    generate(&options(30_000, 9, dir.path(), 7_000)).unwrap();
    let releases: Vec<ParsedRelease> = parse_corpus(dir.path()).into_iter().flatten().collect();
    assert_eq!(releases.len(), 30_000);
    let mut ids = HashSet::new();
    for release in &releases {
        assert!(
            ids.insert(model::release_id(release.published_on, &release.title)),
            "{} {} twice",
            release.published_on,
            release.title
        );
    }
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
fn impossible_requests_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        generate(&options(0, 1, dir.path(), 10)),
        Err(GenerateError::NoReleases)
    ));
    assert!(matches!(
        generate(&options(10, 1, dir.path(), 0)),
        Err(GenerateError::NoReleasesPerFile)
    ));
    // Every file has days of its own, so there cannot be more files than days.
    let refused = generate(&options(10_000, 1, dir.path(), 1));
    assert!(
        matches!(
            refused,
            Err(GenerateError::TooManyFiles {
                files: 10_000,
                days: 9_862
            })
        ),
        "{refused:?}"
    );
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
    assert_eq!(releases, 1_200, "{report}");
    assert!(
        report.ends_with(&format!(": {releases} inserted, 0 updated, 0 unchanged\n")),
        "{report}"
    );

    let refused = ingest(&["generate", "--releases", "0", "--out", out_arg]);
    assert!(!refused.status.success());
}
