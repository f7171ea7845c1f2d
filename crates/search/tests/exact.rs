//! The index against brute force: over a generated corpus, every search of a fixed set counts,
//! facets and pages exactly what the matching rule evaluated in memory gives.

// A failed expectation is the test's failure, in the helpers too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use model::TagKind;
use search::oracle::CorpusVocabulary;
use search::{
    Filter, IndexState, IndexedRelease, Key, Order, PageSpec, Resolved, SearchIndex, SearchQuery,
};
use uuid::Uuid;

const WORDS: &[&str] = &[
    "work",
    "works",
    "working",
    "worker",
    "workers",
    "workshop",
    "workshops",
    "employment",
    "employer",
    "employers",
    "apprenticeship",
    "apprenticeships",
    "mongolia",
    "mongolian",
    "social",
    "security",
    "protection",
    "decent",
    "labour",
    "labor",
    "training",
    "trainer",
    "youth",
    "women",
    "safety",
    "health",
    "the",
    "of",
    "and",
    "in",
    "for",
    "china",
    "beijing",
    "ulaanbaatar",
    "green",
    "jobs",
    "skills",
    "skill",
    "practice",
    "practical",
    "practitioners",
    "original",
    "origin",
    "writing",
    "written",
    "putting",
    "putt",
    "xiao",
    "xiaoping",
];

/// A small deterministic generator (xorshift), so the corpus is the same on every run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn sentence(&mut self, words: usize) -> String {
        (0..words)
            .map(|_| {
                let word = WORDS[self.below(WORDS.len())];
                if self.below(7) == 0 {
                    // Capitals and punctuation, as in real titles.
                    format!("{}'s,", word.to_uppercase())
                } else {
                    word.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn corpus(releases: usize) -> Vec<IndexedRelease> {
    let mut random = Random(0x9e37_79b9_7f4a_7c15);
    let start = NaiveDate::from_ymd_opt(2015, 1, 1).unwrap();
    (0..releases)
        .map(|n| {
            let programmes = (1..=9).filter(|_| random.below(4) == 0).collect();
            let offices = (1..=4).filter(|_| random.below(3) == 0).collect();
            let title_words = 3 + random.below(6);
            let summary_words = 10 + random.below(30);
            IndexedRelease {
                id: Uuid::from_u128(random.next() as u128 * 7919 + n as u128),
                title: random.sentence(title_words),
                summary: random.sentence(summary_words),
                published_on: start + chrono::Days::new(random.below(2000) as u64),
                programmes,
                offices,
            }
        })
        .collect()
}

fn build(releases: &[IndexedRelease]) -> SearchIndex {
    let mut opened = SearchIndex::open(None).unwrap();
    let mut rebuild = opened.indexer.rebuild().unwrap();
    for release in releases {
        rebuild.add(release).unwrap();
    }
    rebuild
        .finish(IndexState {
            archive: "test".to_owned(),
            position: 1,
        })
        .unwrap();
    opened.index
}

fn keeps(filter: &Filter, release: &IndexedRelease) -> bool {
    let any = |wanted: &Option<Vec<i32>>, have: &[i32]| {
        wanted
            .as_ref()
            .is_none_or(|wanted| wanted.iter().any(|id| have.contains(id)))
    };
    filter.from.is_none_or(|from| release.published_on >= from)
        && filter.to.is_none_or(|to| release.published_on <= to)
        && any(&filter.programmes, &release.programmes)
        && any(&filter.offices, &release.offices)
        && match filter.scope {
            None => true,
            Some((TagKind::Programme, id)) => release.programmes.contains(&id),
            Some((TagKind::Office, id)) => release.offices.contains(&id),
        }
}

const SEARCHES: &[&str] = &[
    "work",
    "workshop",
    "employers",
    "social security",
    "\"social security\"",
    "\"decent work\"",
    "\"the labour\"",
    "labour -youth",
    "china -\"green jobs\"",
    "youth or mongolia",
    "aprenticeship",
    "worksohp",
    "Mongloia",
    "aprentiseship",
    "pract",
    "orig",
    "writte",
    "xiao",
    "skills trai",
    "zzzzzz",
    "the",
    "ILO's",
    "putt",
];

#[test]
fn counts_facets_and_pages_equal_brute_force() {
    let releases = corpus(3000);
    let index = build(&releases);
    let mut vocabulary = CorpusVocabulary::default();
    for release in &releases {
        vocabulary.add(&release.title);
        vocabulary.add(&release.summary);
    }
    let filters = [
        Filter::default(),
        Filter {
            programmes: Some(vec![2]),
            ..Filter::default()
        },
        Filter {
            offices: Some(vec![1, 3]),
            ..Filter::default()
        },
        Filter {
            from: NaiveDate::from_ymd_opt(2016, 1, 1),
            to: NaiveDate::from_ymd_opt(2016, 12, 31),
            ..Filter::default()
        },
        Filter {
            scope: Some((TagKind::Office, 2)),
            programmes: Some(vec![1, 5]),
            ..Filter::default()
        },
    ];
    let by_id: HashMap<Uuid, &IndexedRelease> = releases.iter().map(|r| (r.id, r)).collect();
    for text in SEARCHES {
        let query = SearchQuery::parse(text).unwrap();
        let expected_resolution = Resolved::resolve(&query, &vocabulary);
        let matches = index.matches(&query, None, None).unwrap();
        assert_eq!(
            matches.resolved(),
            &expected_resolution,
            "{text}: the index's vocabulary resolves differently"
        );
        let matching: Vec<&IndexedRelease> = releases
            .iter()
            .filter(|release| expected_resolution.matches(&release.title, &release.summary))
            .collect();
        for filter in &filters {
            let kept: Vec<&IndexedRelease> = matching
                .iter()
                .copied()
                .filter(|release| keeps(filter, release))
                .collect();
            assert_eq!(
                matches.count(filter),
                kept.len() as u64,
                "{text} with {filter:?}"
            );
            // Facets: days, programmes and offices under the same filter.
            let facets = matches.facets(filter, filter, filter);
            let mut days: BTreeMap<NaiveDate, i64> = BTreeMap::new();
            let mut programmes: BTreeMap<i32, i64> = BTreeMap::new();
            let mut offices: BTreeMap<i32, i64> = BTreeMap::new();
            for release in &kept {
                *days.entry(release.published_on).or_default() += 1;
                for id in &release.programmes {
                    *programmes.entry(*id).or_default() += 1;
                }
                for id in &release.offices {
                    *offices.entry(*id).or_default() += 1;
                }
            }
            assert_eq!(facets.days, days, "{text} days with {filter:?}");
            let sorted = |mut counts: Vec<(i32, i64)>| {
                counts.sort();
                counts.into_iter().collect::<BTreeMap<_, _>>()
            };
            assert_eq!(sorted(facets.programmes), programmes, "{text} programmes");
            assert_eq!(sorted(facets.offices), offices, "{text} offices");
            // The newest page: brute force sorted by (date, id) descending.
            let mut newest: Vec<(NaiveDate, Uuid)> =
                kept.iter().map(|r| (r.published_on, r.id)).collect();
            newest.sort_by(|a, b| b.cmp(a));
            let spec = PageSpec {
                order: Order::NewestFirst,
                size: 20,
                after: None,
                before: None,
                backward: false,
            };
            let (hits, total) = matches.page(filter, &spec, true);
            assert_eq!(total, Some(kept.len() as u64), "{text}: the page's count");
            let page: Vec<(NaiveDate, Uuid)> =
                hits.iter().map(|hit| (hit.published_on, hit.id)).collect();
            assert_eq!(page, newest.iter().take(21).copied().collect::<Vec<_>>());
        }
        // Relevance: every page follows the previous one without a gap or a repeat, in
        // descending score, date and id, and together they are the matches.
        let mut seen = Vec::new();
        let mut after: Option<Key> = None;
        loop {
            let spec = PageSpec {
                order: Order::Relevance,
                size: 50,
                after,
                before: None,
                backward: false,
            };
            let (mut page, _) = matches.page(&Filter::default(), &spec, false);
            let more = page.len() > 50;
            page.truncate(50);
            for pair in page.windows(2) {
                let (a, b) = (&pair[0], &pair[1]);
                assert!(
                    a.score > b.score
                        || (a.score == b.score && (a.published_on, a.id) > (b.published_on, b.id)),
                    "{text}: {a:?} before {b:?}"
                );
            }
            seen.extend(page.iter().map(|hit| hit.id));
            let Some(last) = page.last() else { break };
            after = Some(Key {
                score: last.score,
                published_on: last.published_on,
                id: last.id,
            });
            if !more {
                break;
            }
        }
        let mut expected: Vec<Uuid> = matching.iter().map(|r| r.id).collect();
        expected.sort();
        let mut found = seen.clone();
        found.sort();
        assert_eq!(found, expected, "{text}: relevance pages");
        assert!(seen.iter().all(|id| by_id.contains_key(id)));
    }
}

#[test]
fn typos_are_corrected_only_for_words_the_archive_lacks() {
    let releases = corpus(500);
    let index = build(&releases);
    let resolved = index.resolve(&SearchQuery::parse("worksohp").unwrap());
    assert_eq!(resolved.corrections.len(), 1);
    assert_eq!(resolved.corrections[0].word, "worksohp");
    assert_eq!(
        resolved.corrections[0].replacements,
        vec!["workshop".to_owned()]
    );
    // A word of the archive is never corrected, even when another is one edit away.
    let resolved = index.resolve(&SearchQuery::parse("workers ").unwrap());
    assert!(resolved.corrections.is_empty(), "{resolved:?}");
    // Under five letters there is no correction; exclusions and phrases are exact.
    for text in ["wrok", "china -worksohp", "\"worksohp\""] {
        let resolved = index.resolve(&SearchQuery::parse(text).unwrap());
        assert!(resolved.corrections.is_empty(), "{text}: {resolved:?}");
    }
    // Two edits from nine letters.
    let resolved = index.resolve(&SearchQuery::parse("aprentiseship").unwrap());
    assert_eq!(
        resolved.corrections[0].replacements,
        vec!["apprenticeship".to_owned()]
    );
}

#[test]
fn suggestions_complete_the_typed_word_with_exact_counts() {
    let releases = corpus(800);
    let index = build(&releases);
    let mut vocabulary = CorpusVocabulary::default();
    for release in &releases {
        vocabulary.add(&release.title);
        vocabulary.add(&release.summary);
    }
    let filter = Filter {
        programmes: Some(vec![3]),
        ..Filter::default()
    };
    let query = SearchQuery::parse("social wor").unwrap();
    let suggestions = index.suggest("social wor", &query, &filter, 8).unwrap();
    assert!(!suggestions.is_empty());
    for suggestion in &suggestions {
        assert!(suggestion.word.starts_with("wor"), "{suggestion:?}");
        assert_eq!(suggestion.text, format!("social {}", suggestion.word));
        let completed =
            Resolved::resolve(&SearchQuery::parse(&suggestion.text).unwrap(), &vocabulary);
        let expected = releases
            .iter()
            .filter(|r| keeps(&filter, r) && completed.matches(&r.title, &r.summary))
            .count() as u64;
        assert_eq!(suggestion.count, expected, "{suggestion:?}");
    }
    assert!(
        suggestions
            .windows(2)
            .all(|pair| pair[0].count >= pair[1].count)
    );
    assert!(
        index
            .suggest(
                "social ",
                &SearchQuery::parse("social \"x\"").unwrap(),
                &filter,
                8
            )
            .unwrap()
            .is_empty()
    );
}

#[test]
fn an_update_replaces_and_a_removal_deletes() {
    let releases = corpus(100);
    let mut opened = SearchIndex::open(None).unwrap();
    {
        let mut rebuild = opened.indexer.rebuild().unwrap();
        for release in &releases {
            rebuild.add(release).unwrap();
        }
        rebuild
            .finish(IndexState {
                archive: "a".to_owned(),
                position: 1,
            })
            .unwrap();
    }
    let index = opened.index.clone();
    let query = SearchQuery::parse("quetzalcoatl").unwrap();
    assert_eq!(index.matches(&query, None, None).unwrap().len(), 0);
    let mut changed = releases[0].clone();
    changed.title = "Quetzalcoatl visits".to_owned();
    opened
        .indexer
        .apply(
            std::slice::from_ref(&changed),
            &[releases[1].id],
            IndexState {
                archive: "a".to_owned(),
                position: 2,
            },
        )
        .unwrap();
    assert_eq!(index.len(), 99);
    assert_eq!(index.state().map(|state| state.position), Some(2));
    let matches = index.matches(&query, None, None).unwrap();
    assert_eq!(matches.len(), 1);
    let spec = PageSpec {
        order: Order::Relevance,
        size: 5,
        after: None,
        before: None,
        backward: false,
    };
    assert_eq!(
        matches.page(&Filter::default(), &spec, false).0[0].id,
        changed.id
    );
}

#[test]
fn a_corrupt_or_foreign_directory_is_wiped_or_refused_never_served() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("index");
    let releases = corpus(200);
    {
        let mut opened = SearchIndex::open(Some(&path)).unwrap();
        assert!(opened.state.is_none());
        let mut rebuild = opened.indexer.rebuild().unwrap();
        for release in &releases {
            rebuild.add(release).unwrap();
        }
        rebuild
            .finish(IndexState {
                archive: "a".to_owned(),
                position: 7,
            })
            .unwrap();
    }
    // Reopened: its state is back, nothing to rebuild.
    {
        let opened = SearchIndex::open(Some(&path)).unwrap();
        assert_eq!(opened.state.map(|state| state.position), Some(7));
        assert_eq!(opened.index.len(), 200);
        assert!(opened.wiped.is_none());
        // A second process on the same directory is refused with what to do.
        let error = SearchIndex::open(Some(&path)).err().unwrap().to_string();
        assert!(error.contains("--search-index-dir"), "{error}");
    }
    // Flip bytes in the middle of the largest file: the checksum fails and the index is wiped.
    let largest = std::fs::read_dir(&path)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .max_by_key(|path| std::fs::metadata(path).unwrap().len())
        .unwrap();
    let mut bytes = std::fs::read(&largest).unwrap();
    let middle = bytes.len() / 2;
    for byte in &mut bytes[middle..middle + 16] {
        *byte = !*byte;
    }
    std::fs::write(&largest, bytes).unwrap();
    let opened = SearchIndex::open(Some(&path)).unwrap();
    assert!(opened.state.is_none());
    assert_eq!(opened.index.len(), 0);
    assert!(opened.wiped.as_deref().unwrap().contains("corrupt"));
    drop(opened);
    // A directory holding something else is refused, and left as it was.
    let foreign = directory.path().join("photos");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("cat.jpg"), b"meow").unwrap();
    let error = SearchIndex::open(Some(&foreign)).err().unwrap().to_string();
    assert!(error.contains("not a search index"), "{error}");
    assert!(foreign.join("cat.jpg").exists());
}
