//! A release's identity is its natural key (publication date + normalised title), so the same
//! release read from any file, on any run, maps to the same row.

use chrono::NaiveDate;
use uuid::Uuid;

/// Namespace of release ids (a fixed random UUID; changing it would change every id).
const RELEASE_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2a4e_9b3d_4c5a_8e7f_0a1b_2c3d_4e5f);

/// The stable id of the release published on `published_on` under `title`: a UUID v5 over the
/// date and the title with case, whitespace runs and typographic quotes/dashes normalised away.
pub fn release_id(published_on: NaiveDate, title: &str) -> Uuid {
    let key = format!("{published_on}|{}", normalise_title(title));
    Uuid::new_v5(&RELEASE_NAMESPACE, key.as_bytes())
}

/// The title as the id sees it: lower case, whitespace runs as one space, typographic quotes and
/// dashes as their ASCII forms. Two titles of one date are one release exactly when these agree.
pub fn normalise_title(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    normalise_title_into(title, &mut out);
    out
}

/// [`normalise_title`] appended to `out` (which it does not clear).
pub fn normalise_title_into(title: &str, out: &mut String) {
    let start = out.len();
    if title.is_ascii() {
        // The common case, a byte at a time (the same rule: ASCII has no typographic quotes
        // or dashes, and its whitespace is `char::is_whitespace`'s).
        let mut space = false;
        for &byte in title.as_bytes() {
            if char::from(byte).is_whitespace() {
                space = out.len() > start;
            } else {
                if space {
                    out.push(' ');
                    space = false;
                }
                out.push(char::from(byte.to_ascii_lowercase()));
            }
        }
        return;
    }
    for word in title.split_whitespace() {
        if out.len() > start {
            out.push(' ');
        }
        for c in word.chars() {
            match c {
                c if c.is_ascii() => out.push(c.to_ascii_lowercase()),
                '\u{2018}' | '\u{2019}' => out.push('\''),
                '\u{201C}' | '\u{201D}' => out.push('"'),
                '\u{2013}' | '\u{2014}' => out.push('-'),
                c => out.extend(c.to_lowercase()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn same_release_written_differently_has_one_id() {
        let a = release_id(date(2021, 6, 24), "China’s  SCORE – Pilot");
        let b = release_id(date(2021, 6, 24), "china's SCORE - pilot");
        assert_eq!(a, b);
    }

    #[test]
    fn normalised_titles_fold_case_spaces_quotes_and_dashes() {
        assert_eq!(
            normalise_title("  Ärzte’s “SCORE” –\tPilot "),
            "ärzte's \"score\" - pilot"
        );
        let mut out = String::from("kept|");
        normalise_title_into(" A \t B\x0b", &mut out);
        assert_eq!(
            out, "kept|a b",
            "ASCII titles take a shortcut to the same rule"
        );
        assert_eq!(
            release_id(date(2021, 6, 24), "\tSCORE\x0bPilot  "),
            release_id(date(2021, 6, 24), "score pilot")
        );
    }

    #[test]
    fn date_and_title_both_distinguish_releases() {
        let base = release_id(date(2021, 6, 24), "SCORE Pilot");
        assert_ne!(base, release_id(date(2021, 6, 25), "SCORE Pilot"));
        assert_ne!(base, release_id(date(2021, 6, 24), "SCORE Pilot 2"));
    }
}
