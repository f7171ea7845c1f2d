//! Reads a press-release listing (a heading, an introduction, then sections of numbered items)
//! into [`ParsedRelease`]s in one line-by-line pass, so that 100 MB listings stay cheap.
//! Every rejection is a [`ParseError`] naming the file, the 1-based line and what was expected.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Serialize;

/// One release as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParsedRelease {
    pub title: String,
    pub published_on: NaiveDate,
    pub summary: Option<String>,
    /// The `©` line as written (leading `©` included), trimmed.
    pub image_credit: Option<String>,
    /// 1-based line number of the item's `N.` line.
    pub line: usize,
}

/// Why a listing was rejected, and where.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}: {kind}", file.display())]
pub struct ParseError {
    pub file: PathBuf,
    /// 1-based line number the problem was found on.
    pub line: usize,
    pub kind: ParseErrorKind,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseErrorKind {
    #[error(
        "byte 0x{byte:02X} at column {column} is not valid UTF-8: expected the listing to be UTF-8 text"
    )]
    InvalidUtf8 { byte: u8, column: usize },
    #[error("no releases found: expected at least one numbered item such as `1. Title`")]
    NoReleases,
    #[error("the first item is numbered {found}: expected it to be numbered 1")]
    FirstItemNotOne { found: String },
    #[error(
        "item number {found} is out of sequence: expected {expected}, or 1 to start a new section"
    )]
    OutOfSequence { found: String, expected: u64 },
    #[error("item {number} has an empty title: expected the title after `{number}.`")]
    EmptyTitle { number: u32 },
    #[error(
        "item {number} has a photo credit but no title: expected the title on its own line after the © line, before the date"
    )]
    MissingTitleAfterCredit { number: u32 },
    #[error(
        "item {number} has no date: expected a date such as `24 June 2021` on its own line after the title"
    )]
    MissingDate { number: u32 },
    #[error("unknown month `{month}`: expected a full English month name such as `June`")]
    UnknownMonth { month: String },
    #[error("date `{date}` does not exist: {month} {year} has days 1 to {last_day}")]
    NoSuchDate {
        date: String,
        month: &'static str,
        year: i32,
        last_day: u32,
    },
    #[error(
        "unexpected text after the summary of item {number}: expected a blank line or item `{next}.` (a summary is a single paragraph)"
    )]
    UnexpectedText { number: u32, next: u64 },
}

/// Parses a whole listing; `file` only labels errors.
///
/// Format decisions beyond the obvious:
/// - An item is `N. <first line>`; indentation and blank-line counts never matter. Blank lines
///   separate the fields: optional `©` photo credit (one line), title, date, optional summary.
/// - The title (after `N.`, or after the credit) may wrap over several lines; a line shaped like
///   a date (`7 June 2021`) ends it even without a blank line in between.
/// - The summary is one paragraph: any further text before the next `N.` line is an error, so an
///   unnumbered item can never be swallowed silently.
/// - Numbers must run 1, 2, 3, …; a `1.` may appear anywhere, because it starts a new section.
/// - Errors found at the end of the input (including "no releases") point at the last line
///   (line 1 for an empty file).
pub fn parse_listing(file: &Path, bytes: &[u8]) -> Result<Vec<ParsedRelease>, ParseError> {
    let error = |line, kind| ParseError {
        file: file.to_path_buf(),
        line,
        kind,
    };
    let text = decode(bytes).map_err(|(line, kind)| error(line, kind))?;
    let mut parser = Parser::default();
    // An empty file has no last line; line 1 is the only sensible place to point at.
    let mut last_line = 1;
    for (index, raw) in text.lines().enumerate() {
        last_line = index + 1;
        parser
            .feed(last_line, raw)
            .map_err(|kind| error(last_line, kind))?;
    }
    parser.finish().map_err(|kind| error(last_line, kind))
}

/// Validates UTF-8 up front so every later step can work on `&str`, and drops a byte-order mark.
fn decode(bytes: &[u8]) -> Result<&str, (usize, ParseErrorKind)> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.strip_prefix('\u{feff}').unwrap_or(text)),
        Err(err) => {
            let valid = &bytes[..err.valid_up_to()];
            let line_start = valid
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |newline| newline + 1);
            let line = 1 + valid.iter().filter(|&&b| b == b'\n').count();
            // The part of the line before the bad byte is valid, so a character column is exact.
            let column = 1 + String::from_utf8_lossy(&valid[line_start..])
                .chars()
                .count();
            let byte = bytes[err.valid_up_to()];
            Err((line, ParseErrorKind::InvalidUtf8 { byte, column }))
        }
    }
}

#[derive(Debug, Default)]
struct Parser {
    releases: Vec<ParsedRelease>,
    /// The item being read; `None` while still in the heading and introduction.
    item: Option<Item>,
}

impl Parser {
    fn feed(&mut self, line_number: usize, raw: &str) -> Result<(), ParseErrorKind> {
        let line = raw.trim();
        if let Some((digits, rest)) = split_item_line(line) {
            let number = self.next_number(digits)?;
            if let Some(item) = self.item.take() {
                self.releases.push(item.finish()?);
            }
            self.item = Some(Item::start(number, line_number, rest)?);
        } else if let Some(item) = &mut self.item {
            item.feed(line)?;
        }
        Ok(())
    }

    /// Checks the `N.` against the previous item's number; a skipped or repeated number would
    /// otherwise mean a release silently lost or duplicated.
    fn next_number(&self, digits: &str) -> Result<u32, ParseErrorKind> {
        let number = parse_digits(digits);
        let previous = self.item.as_ref().map(|item| item.number);
        match (previous, number) {
            (_, Some(1)) => Ok(1),
            (Some(previous), Some(number)) if previous.checked_add(1) == Some(number) => Ok(number),
            (Some(previous), _) => Err(ParseErrorKind::OutOfSequence {
                found: digits.to_owned(),
                expected: u64::from(previous) + 1,
            }),
            (None, _) => Err(ParseErrorKind::FirstItemNotOne {
                found: digits.to_owned(),
            }),
        }
    }

    fn finish(mut self) -> Result<Vec<ParsedRelease>, ParseErrorKind> {
        match self.item.take() {
            Some(item) => self.releases.push(item.finish()?),
            None => return Err(ParseErrorKind::NoReleases),
        }
        Ok(self.releases)
    }
}

/// Where the reader is inside an item; the date travels with the stages that follow it, so a
/// finished item without one cannot be built.
#[derive(Debug, Clone, Copy)]
enum Stage {
    /// Saw a `©` line; the title comes next.
    AwaitTitle,
    Title,
    /// A blank line closed the title; the date comes next.
    AwaitDate,
    AwaitSummary(NaiveDate),
    Summary(NaiveDate),
    /// A blank line closed the summary; only blank lines or the next item may follow.
    Done(NaiveDate),
}

#[derive(Debug)]
struct Item {
    number: u32,
    line: usize,
    image_credit: Option<String>,
    title: String,
    summary: String,
    stage: Stage,
}

impl Item {
    /// `rest` is the trimmed text after `N.`.
    fn start(number: u32, line: usize, rest: &str) -> Result<Self, ParseErrorKind> {
        // A date right after `N.` means the title was left out, not that the title is a date.
        if rest.is_empty() || date_tokens(rest).is_some() {
            return Err(ParseErrorKind::EmptyTitle { number });
        }
        let mut item = Item {
            number,
            line,
            image_credit: None,
            title: String::new(),
            summary: String::new(),
            stage: Stage::Title,
        };
        if rest.starts_with('©') {
            let mut credit = String::new();
            push_words(&mut credit, rest);
            item.image_credit = Some(credit);
            item.stage = Stage::AwaitTitle;
        } else {
            push_words(&mut item.title, rest);
        }
        Ok(item)
    }

    /// `line` is already trimmed; an empty one is a blank line.
    fn feed(&mut self, line: &str) -> Result<(), ParseErrorKind> {
        let blank = line.is_empty();
        self.stage = match (self.stage, blank) {
            (Stage::AwaitTitle, true) => Stage::AwaitTitle,
            (Stage::AwaitTitle, false) if date_tokens(line).is_some() => {
                return Err(ParseErrorKind::MissingTitleAfterCredit {
                    number: self.number,
                });
            }
            (Stage::AwaitTitle, false) => {
                push_words(&mut self.title, line);
                Stage::Title
            }
            (Stage::Title, true) => Stage::AwaitDate,
            (Stage::Title, false) => match date_tokens(line) {
                Some(tokens) => Stage::AwaitSummary(parse_date(tokens)?),
                None => {
                    push_words(&mut self.title, line);
                    Stage::Title
                }
            },
            (Stage::AwaitDate, true) => Stage::AwaitDate,
            (Stage::AwaitDate, false) => match date_tokens(line) {
                Some(tokens) => Stage::AwaitSummary(parse_date(tokens)?),
                None => {
                    return Err(ParseErrorKind::MissingDate {
                        number: self.number,
                    });
                }
            },
            (Stage::AwaitSummary(date), true) => Stage::AwaitSummary(date),
            (Stage::AwaitSummary(date) | Stage::Summary(date), false) => {
                push_words(&mut self.summary, line);
                Stage::Summary(date)
            }
            (Stage::Summary(date) | Stage::Done(date), true) => Stage::Done(date),
            (Stage::Done(_), false) => {
                return Err(ParseErrorKind::UnexpectedText {
                    number: self.number,
                    next: u64::from(self.number) + 1,
                });
            }
        };
        Ok(())
    }

    /// Called when the next item or the end of input arrives.
    fn finish(self) -> Result<ParsedRelease, ParseErrorKind> {
        let published_on = match self.stage {
            Stage::AwaitSummary(date) | Stage::Summary(date) | Stage::Done(date) => date,
            Stage::AwaitTitle => {
                return Err(ParseErrorKind::MissingTitleAfterCredit {
                    number: self.number,
                });
            }
            Stage::Title | Stage::AwaitDate => {
                return Err(ParseErrorKind::MissingDate {
                    number: self.number,
                });
            }
        };
        Ok(ParsedRelease {
            title: self.title,
            published_on,
            summary: (!self.summary.is_empty()).then_some(self.summary),
            image_credit: self.image_credit,
            line: self.line,
        })
    }
}

/// Recognises `N.` followed by whitespace or the end of the line, i.e. `^\s*\d+\.(\s|$)` on an
/// already trimmed line (ASCII digits only), and returns the digits and the trimmed rest.
fn split_item_line(line: &str) -> Option<(&str, &str)> {
    let digits_len = line.bytes().take_while(u8::is_ascii_digit).count();
    if digits_len == 0 {
        return None;
    }
    let (digits, after) = line.split_at(digits_len);
    let rest = after.strip_prefix('.')?;
    // `3.4 million` starts with digits and a dot but is prose, not an item.
    if rest.starts_with(|c: char| !c.is_whitespace()) {
        return None;
    }
    Some((digits, rest.trim_start()))
}

/// `None` when the digits do not fit a `u32`, which can only be out of sequence anyway.
fn parse_digits(digits: &str) -> Option<u32> {
    digits.bytes().try_fold(0u32, |acc, b| {
        acc.checked_mul(10)?.checked_add(u32::from(b - b'0'))
    })
}

/// Appends the words of `line` to `field`, so wrapped lines and runs of whitespace become
/// single spaces.
fn push_words(field: &mut String, line: &str) {
    for word in line.split_whitespace() {
        if !field.is_empty() {
            field.push(' ');
        }
        field.push_str(word);
    }
}

struct DateTokens<'a> {
    day: &'a str,
    month: &'a str,
    year: &'a str,
}

/// Whether a line is shaped like `7 June 2021` / `07 june 2021`. The month is not checked here,
/// so a misspelt month is still taken as a date and reported as an unknown month.
fn date_tokens(line: &str) -> Option<DateTokens<'_>> {
    let mut words = line.split_whitespace();
    let (day, month, year) = (words.next()?, words.next()?, words.next()?);
    let shaped = words.next().is_none()
        && (1..=2).contains(&day.len())
        && day.bytes().all(|b| b.is_ascii_digit())
        && month.chars().all(char::is_alphabetic)
        && year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit());
    shaped.then_some(DateTokens { day, month, year })
}

/// The months as listings write them, January first.
pub(crate) const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn parse_date(tokens: DateTokens<'_>) -> Result<NaiveDate, ParseErrorKind> {
    let DateTokens { day, month, year } = tokens;
    let index = MONTHS
        .iter()
        .position(|name| name.eq_ignore_ascii_case(month))
        .ok_or_else(|| ParseErrorKind::UnknownMonth {
            month: month.to_owned(),
        })?;
    // The shape check guarantees at most four ASCII digits, so these cannot overflow.
    let day_number = parse_digits(day).unwrap_or(0);
    let year_number = parse_digits(year).map_or(0, |y| y as i32);
    let month_number = index as u32 + 1;
    NaiveDate::from_ymd_opt(year_number, month_number, day_number).ok_or_else(|| {
        ParseErrorKind::NoSuchDate {
            date: format!("{day} {month} {year}"),
            month: MONTHS[index],
            year: year_number,
            last_day: days_in_month(year_number, month_number),
        }
    })
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Result<Vec<ParsedRelease>, (usize, ParseErrorKind)> {
        parse_listing(Path::new("t.txt"), text.as_bytes()).map_err(|e| (e.line, e.kind))
    }

    fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn item_lines() {
        assert_eq!(split_item_line("12. Title"), Some(("12", "Title")));
        assert_eq!(split_item_line("3."), Some(("3", "")));
        assert_eq!(split_item_line("3.\tTitle"), Some(("3", "Title")));
        assert_eq!(split_item_line("3.4 million jobs"), None);
        assert_eq!(split_item_line("3 June 2021"), None);
        assert_eq!(split_item_line(". Title"), None);
        assert_eq!(split_item_line("٣. Arabic-Indic digits"), None);
    }

    #[test]
    fn dates() {
        let parse = |line: &str| date_tokens(line).map(parse_date);
        assert_eq!(parse("7 June 2021").and_then(Result::ok), date(2021, 6, 7));
        assert_eq!(parse("07 jUNE 2021").and_then(Result::ok), date(2021, 6, 7));
        assert_eq!(
            parse("29 February 2024").and_then(Result::ok),
            date(2024, 2, 29)
        );
        assert!(parse("June 7 2021").is_none());
        assert!(parse("7 June 21").is_none());
        assert!(parse("107 June 2021").is_none());
        assert!(parse("7 June 2021 updated").is_none());
        assert_eq!(
            parse("24 Jun 2021"),
            Some(Err(ParseErrorKind::UnknownMonth {
                month: "Jun".into()
            }))
        );
        assert_eq!(
            parse("29 February 1900"),
            Some(Err(ParseErrorKind::NoSuchDate {
                date: "29 February 1900".into(),
                month: "February",
                year: 1900,
                last_day: 28
            }))
        );
        assert_eq!(
            parse("0 june 2021")
                .and_then(Result::err)
                .map(|e| e.to_string()),
            Some("date `0 june 2021` does not exist: June 2021 has days 1 to 30".into())
        );
    }

    #[test]
    fn invalid_utf8_column_counts_characters() {
        let bytes = b"heading\n\xe2\x80\x99ab\xffc\n";
        let err = parse_listing(Path::new("x.txt"), bytes).err();
        assert_eq!(
            err.map(|e| (e.line, e.kind)),
            Some((
                2,
                ParseErrorKind::InvalidUtf8 {
                    byte: 0xff,
                    column: 4
                }
            ))
        );
    }

    #[test]
    fn date_directly_under_title_ends_it() {
        let parsed = kinds("1. A title\nwrapped\n7 June 2021\nSummary\n");
        assert_eq!(
            parsed,
            Ok(vec![ParsedRelease {
                title: "A title wrapped".into(),
                published_on: NaiveDate::from_ymd_opt(2021, 6, 7).unwrap(),
                summary: Some("Summary".into()),
                image_credit: None,
                line: 1,
            }])
        );
    }

    #[test]
    fn errors_at_end_of_input_point_at_last_line() {
        assert_eq!(kinds(""), Err((1, ParseErrorKind::NoReleases)));
        assert_eq!(
            kinds("1. Title\n\n"),
            Err((2, ParseErrorKind::MissingDate { number: 1 }))
        );
        assert_eq!(
            kinds("1. © Someone\n"),
            Err((1, ParseErrorKind::MissingTitleAfterCredit { number: 1 }))
        );
    }

    #[test]
    fn numbering() {
        assert_eq!(
            kinds("2. Title\n1 June 2021\n"),
            Err((1, ParseErrorKind::FirstItemNotOne { found: "2".into() }))
        );
        let two = "1. A\n1 June 2021\n2. B\n1 June 2021\n";
        assert_eq!(kinds(two).map(|r| r.len()), Ok(2));
        assert_eq!(
            kinds(&format!("{two}2. C\n1 June 2021\n")),
            Err((
                5,
                ParseErrorKind::OutOfSequence {
                    found: "2".into(),
                    expected: 3
                }
            ))
        );
        assert_eq!(
            kinds(&format!("{two}99999999999. C\n")),
            Err((
                5,
                ParseErrorKind::OutOfSequence {
                    found: "99999999999".into(),
                    expected: 3
                }
            ))
        );
        assert_eq!(
            kinds(&format!("{two}01. C\n1 June 2021\n")).map(|r| r.len()),
            Ok(3)
        );
    }

    #[test]
    fn second_paragraph_after_summary_is_rejected() {
        assert_eq!(
            kinds("1. A\n\n1 June 2021\n\nSummary\n\nStray Title\n"),
            Err((7, ParseErrorKind::UnexpectedText { number: 1, next: 2 }))
        );
    }
}
