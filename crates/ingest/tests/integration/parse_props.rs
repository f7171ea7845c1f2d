//! Property tests for `ingest::parse`: arbitrary bytes, and the seed listings mangled line by
//! line and byte by byte, either parse or are rejected with an error that names a line of the
//! file and points at the evidence on it. The parser never panics.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ingest::parse::{ParseError, ParseErrorKind, ParsedRelease, parse_listing};
use proptest::prelude::*;
use proptest::sample::Index;

/// Cases per property: enough to reach every error kind many times, a few seconds in debug.
const CASES: u32 = 1_500;

fn seed_listings() -> &'static [(PathBuf, Vec<u8>)] {
    static SEEDS: OnceLock<Vec<(PathBuf, Vec<u8>)>> = OnceLock::new();
    SEEDS.get_or_init(read_seed_listings)
}

fn read_seed_listings() -> Vec<(PathBuf, Vec<u8>)> {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../seeds");
    let mut listings: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&seeds)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", seeds.display()))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "txt"))
        .map(|path| {
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            (path, bytes)
        })
        .collect();
    listings.sort();
    assert!(
        !listings.is_empty(),
        "no seed listings in {}",
        seeds.display()
    );
    listings
}

/// How many lines the file has, counted as an editor would: a final newline does not start
/// another line. (The same as `str::lines`, which the parser numbers lines by.)
fn line_count(bytes: &[u8]) -> usize {
    let newlines = bytes.iter().filter(|&&b| b == b'\n').count();
    newlines + usize::from(bytes.last().is_some_and(|&b| b != b'\n'))
}

/// The line an error may name when the problem is the end of the input: the last line, or
/// line 1 for a file without lines.
fn last_line(bytes: &[u8]) -> usize {
    line_count(bytes).max(1)
}

/// The `number`-th line (1-based), as the parser sees it (BOM dropped, `\r\n` folded), trimmed.
fn text_line(bytes: &[u8], number: usize) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.lines()
        .nth(number.checked_sub(1)?)
        .map(|line| line.trim().to_owned())
}

/// The `N` of a trimmed `N. …` item line.
fn item_number(line: &str) -> Option<u64> {
    let (digits, _) = line.split_once('.')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Numbers too long for u64 cannot be an item's number anyway.
    digits.parse().ok()
}

/// Checks everything a parse of `bytes` must satisfy, whatever they are; returns why not.
fn check(bytes: &[u8]) -> Result<(), String> {
    let file = Path::new("mangled.txt");
    match parse_listing(file, bytes) {
        Ok(releases) => check_releases(bytes, &releases),
        Err(error) => check_error(bytes, file, &error),
    }
}

fn check_releases(bytes: &[u8], releases: &[ParsedRelease]) -> Result<(), String> {
    if releases.is_empty() {
        return Err("parsed without error but found no release".into());
    }
    let mut previous = 0;
    for release in releases {
        if release.line <= previous || release.line > line_count(bytes) {
            return Err(format!(
                "release at line {} after line {previous}, in a file of {} lines",
                release.line,
                line_count(bytes)
            ));
        }
        previous = release.line;
        let line = text_line(bytes, release.line).unwrap_or_default();
        if item_number(&line).is_none() || release.title.trim().is_empty() {
            return Err(format!(
                "release {release:?} does not come from a numbered item line: {line:?}"
            ));
        }
    }
    Ok(())
}

fn check_error(bytes: &[u8], file: &Path, error: &ParseError) -> Result<(), String> {
    let last = last_line(bytes);
    if error.file != file {
        return Err(format!("error names file {}", error.file.display()));
    }
    if !(1..=last).contains(&error.line) {
        return Err(format!("`{error}` names a line outside 1..={last}"));
    }
    let line = text_line(bytes, error.line).unwrap_or_default();
    let words: Vec<&str> = line.split_whitespace().collect();
    let evidence = match &error.kind {
        ParseErrorKind::NoReleases => error.line == last,
        ParseErrorKind::InvalidUtf8 { byte, column } => {
            let raw = bytes
                .split(|&b| b == b'\n')
                .nth(error.line - 1)
                .unwrap_or_default();
            match std::str::from_utf8(raw) {
                Ok(_) => false,
                Err(bad) => {
                    raw.get(bad.valid_up_to()) == Some(byte)
                        && String::from_utf8_lossy(&raw[..bad.valid_up_to()])
                            .chars()
                            .count()
                            + 1
                            == *column
                }
            }
        }
        ParseErrorKind::FirstItemNotOne { found } | ParseErrorKind::OutOfSequence { found, .. } => {
            line.starts_with(&format!("{found}."))
        }
        ParseErrorKind::EmptyTitle { number } => item_number(&line) == Some(u64::from(*number)),
        ParseErrorKind::UnknownMonth { month } => words.len() == 3 && words[1] == month,
        ParseErrorKind::NoSuchDate { date, .. } => words.join(" ") == *date,
        ParseErrorKind::UnexpectedText { .. } => !line.is_empty(),
        // Found at the next item, at a stray line, or at the end of the input.
        ParseErrorKind::MissingDate { .. } | ParseErrorKind::MissingTitleAfterCredit { .. } => true,
    };
    if evidence {
        Ok(())
    } else {
        Err(format!("`{error}` but line {} is {line:?}", error.line))
    }
}

/// One edit of a listing.
#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(Index),
    DuplicateLine(Index),
    SwapLines(Index, Index),
    InsertBytes(Index, Vec<u8>),
    InsertChar(Index, char),
    Truncate(Index),
    /// Replaces the n-th ASCII digit of the file.
    ChangeDigit(Index, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<Index>().prop_map(Mutation::DeleteLine),
        any::<Index>().prop_map(Mutation::DuplicateLine),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (any::<Index>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(at, bytes)| Mutation::InsertBytes(at, bytes)),
        (any::<Index>(), any::<char>()).prop_map(|(at, c)| Mutation::InsertChar(at, c)),
        // Characters the format gives meaning to, more often than chance would.
        (
            any::<Index>(),
            prop::sample::select(vec!['\n', '\r', '.', '©', ' ', '1', '\u{feff}', '\t'])
        )
            .prop_map(|(at, c)| Mutation::InsertChar(at, c)),
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), b'0'..=b'9').prop_map(|(at, digit)| Mutation::ChangeDigit(at, digit)),
    ]
}

fn lines_of(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect()
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    match mutation {
        Mutation::DeleteLine(at) | Mutation::DuplicateLine(at) | Mutation::SwapLines(at, _) => {
            let mut lines = lines_of(bytes);
            let i = at.index(lines.len());
            match mutation {
                Mutation::DeleteLine(_) => {
                    lines.remove(i);
                }
                Mutation::DuplicateLine(_) => lines.insert(i, lines[i].clone()),
                Mutation::SwapLines(_, other) => {
                    let j = other.index(lines.len());
                    lines.swap(i, j);
                }
                _ => {}
            }
            *bytes = lines.join(&b'\n');
        }
        Mutation::InsertBytes(at, inserted) => {
            let i = at.index(bytes.len() + 1);
            bytes.splice(i..i, inserted.iter().copied());
        }
        Mutation::InsertChar(at, c) => {
            let i = at.index(bytes.len() + 1);
            let mut encoded = [0; 4];
            bytes.splice(i..i, c.encode_utf8(&mut encoded).bytes());
        }
        Mutation::Truncate(at) => bytes.truncate(at.index(bytes.len() + 1)),
        Mutation::ChangeDigit(at, digit) => {
            let digits: Vec<usize> = (0..bytes.len())
                .filter(|&i| bytes[i].is_ascii_digit())
                .collect();
            if !digits.is_empty() {
                bytes[digits[at.index(digits.len())]] = *digit;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn arbitrary_bytes_parse_or_name_a_line(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        prop_assert_eq!(check(&bytes), Ok(()));
    }

    #[test]
    fn listing_shaped_text_parses_or_names_a_line(
        lines in prop::collection::vec(
            prop_oneof![
                Just(String::new()),
                "[ \t]{0,3}[0-9]{1,2}\\.( [A-Za-z©]{1,8}){0,3}",
                "[0-9]{1,3} (June|Juen|February|may|[A-Za-z]{1,9}) [0-9]{3,5}",
                "[A-Za-z ,.’©-]{1,30}",
            ],
            0..30,
        ),
        newline in prop::sample::select(vec!["\n", "\r\n"]),
        final_newline in any::<bool>(),
    ) {
        let mut text = lines.join(newline);
        if final_newline {
            text.push_str(newline);
        }
        prop_assert_eq!(check(text.as_bytes()), Ok(()));
    }

    #[test]
    fn mangled_seed_listings_parse_or_name_a_line(
        seed in any::<Index>(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let seeds = seed_listings();
        let mut bytes = seeds[seed.index(seeds.len())].1.clone();
        for mutation in &mutations {
            apply(&mut bytes, mutation);
        }
        prop_assert_eq!(check(&bytes), Ok(()));
    }
}

fn error_of(bytes: &[u8]) -> Option<(usize, ParseErrorKind)> {
    parse_listing(Path::new("t.txt"), bytes)
        .err()
        .map(|error| (error.line, error.kind))
}

/// What the end-of-input errors name, exactly: the last line, or line 1 when there is none.
#[test]
fn end_of_input_errors_name_the_last_line() {
    let no_releases = |line| Some((line, ParseErrorKind::NoReleases));
    assert_eq!(error_of(b""), no_releases(1));
    assert_eq!(error_of("\u{feff}".as_bytes()), no_releases(1));
    assert_eq!(error_of(b"\n"), no_releases(1));
    assert_eq!(error_of(b"\n\n\n"), no_releases(3));
    assert_eq!(error_of(b"Heading\r\n\r\nIntro"), no_releases(3));
    assert_eq!(
        error_of(b"1. Title\n\n"),
        Some((2, ParseErrorKind::MissingDate { number: 1 }))
    );
}

#[test]
fn the_seed_listings_parse_and_satisfy_the_checks() {
    for (path, bytes) in seed_listings() {
        let releases = parse_listing(path, bytes)
            .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
        assert_eq!(releases.len(), 20, "{}", path.display());
        assert_eq!(check(bytes), Ok(()), "{}", path.display());
    }
}
