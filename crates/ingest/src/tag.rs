//! Tags a press release with the programmes and offices it concerns: the catalogue's aliases
//! and acronyms are compiled once into a single [`regex::RegexSet`], which is run over the
//! release's title and summary after one normalisation pass (quotes, dashes, whitespace).

use regex::{RegexSet, RegexSetBuilder};
use serde::Serialize;

use model::TagKind;

use crate::catalogue::Catalogue;

/// Programmes and offices found in one release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseTags {
    /// Sorted by slug, no duplicates.
    pub programmes: Vec<Tag>,
    /// Sorted by slug, no duplicates; always includes the publishing office.
    pub offices: Vec<Tag>,
}

/// One programme or office, and why the release was tagged with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tag {
    pub slug: String,
    /// The alias (or acronym) as written in the catalogue that matched; `None` for the
    /// listing's publishing office when no alias of it matched.
    pub matched_alias: Option<String>,
}

/// Why a [`Tagger`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TagError {
    #[error("{kind} \"{slug}\": {field} is empty")]
    EmptyAlias {
        kind: TagKind,
        slug: String,
        field: String,
    },
    #[error("cannot compile the catalogue's aliases")]
    Compile(#[from] regex::Error),
}

/// Compiled matchers for every alias and acronym of a catalogue. Build once, share freely.
#[derive(Debug, Clone)]
pub struct Tagger {
    /// One pattern per alias; pattern `i` belongs to `targets[i]`.
    set: RegexSet,
    /// Grouped by entry, each entry's aliases in catalogue order followed by its acronym,
    /// so the first matching pattern of an entry is the alias that explains it.
    targets: Vec<Target>,
}

#[derive(Debug, Clone)]
struct Target {
    kind: TagKind,
    /// Index of the entry in the catalogue's offices or programmes.
    entry: usize,
    slug: String,
    alias: String,
}

impl Tagger {
    /// Compiles the aliases and acronyms of every office and programme.
    pub fn new(catalogue: &Catalogue) -> Result<Tagger, TagError> {
        let offices = catalogue.offices.iter().enumerate().map(|(i, o)| {
            (
                TagKind::Office,
                i,
                &o.slug,
                &o.aliases,
                o.acronym.as_deref(),
            )
        });
        let programmes = catalogue.programmes.iter().enumerate().map(|(i, p)| {
            (
                TagKind::Programme,
                i,
                &p.slug,
                &p.aliases,
                p.acronym.as_deref(),
            )
        });

        let mut patterns = Vec::new();
        let mut targets = Vec::new();
        for (kind, entry, slug, aliases, acronym) in offices.chain(programmes) {
            let aliases = aliases
                .iter()
                .enumerate()
                .map(|(i, alias)| (format!("aliases[{i}]"), alias.as_str(), is_acronym(alias)));
            let acronym = acronym.map(|a| ("acronym".to_owned(), a, true));
            let mut seen: Vec<(String, bool)> = Vec::new();
            for (field, alias, case_sensitive) in aliases.chain(acronym) {
                let mut normalised = String::with_capacity(alias.len());
                normalise_into(alias.trim(), &mut normalised);
                if normalised.is_empty() {
                    return Err(TagError::EmptyAlias {
                        kind,
                        slug: slug.clone(),
                        field,
                    });
                }
                if seen.contains(&(normalised.clone(), case_sensitive)) {
                    continue;
                }
                patterns.push(pattern(&normalised, case_sensitive));
                seen.push((normalised, case_sensitive));
                targets.push(Target {
                    kind,
                    entry,
                    slug: slug.clone(),
                    alias: alias.to_owned(),
                });
            }
        }

        let set = RegexSetBuilder::new(&patterns)
            .size_limit(64 << 20)
            .dfa_size_limit(64 << 20)
            .build()?;
        Ok(Tagger { set, targets })
    }

    /// The programmes and offices of one release. `publisher` (an office slug, normally
    /// [`Catalogue::publisher_of`] the listing file) is always among the offices.
    pub fn tag_release(&self, title: &str, summary: Option<&str>, publisher: &str) -> ReleaseTags {
        let mut text = String::with_capacity(title.len() + summary.map_or(0, str::len) + 1);
        normalise_into(title, &mut text);
        if let Some(summary) = summary {
            // No alias contains a newline (normalisation turns them into spaces), so no
            // phrase can run from the title into the summary.
            text.push('\n');
            normalise_into(summary, &mut text);
        }

        let mut programmes = Vec::new();
        let mut offices = Vec::new();
        let mut previous: Option<(TagKind, usize)> = None;
        for index in self.set.matches(&text).iter() {
            let target = &self.targets[index];
            let entry = Some((target.kind, target.entry));
            if previous == entry {
                continue; // a later alias of an entry that already matched
            }
            previous = entry;
            let tag = Tag {
                slug: target.slug.clone(),
                matched_alias: Some(target.alias.clone()),
            };
            match target.kind {
                TagKind::Office => offices.push(tag),
                TagKind::Programme => programmes.push(tag),
            }
        }
        if !offices.iter().any(|tag| tag.slug == publisher) {
            offices.push(Tag {
                slug: publisher.to_owned(),
                matched_alias: None,
            });
        }
        for tags in [&mut programmes, &mut offices] {
            // Stable: with duplicate slugs (an unvalidated catalogue) the first one stays.
            tags.sort_by(|a, b| a.slug.cmp(&b.slug));
            tags.dedup_by(|later, earlier| later.slug == earlier.slug);
        }
        ReleaseTags {
            programmes,
            offices,
        }
    }
}

/// An alias written entirely in capitals (and digits, punctuation), like "SCORE" or "G20",
/// is matched case-sensitively.
fn is_acronym(alias: &str) -> bool {
    alias.chars().any(char::is_uppercase) && !alias.chars().any(char::is_lowercase)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A pattern that matches the normalised alias as whole words. The boundary is spelled as
/// "start of text or a non-word character" rather than `\b`, which keeps the whole set on
/// the fast lazy DFA even when the text contains non-ASCII characters.
fn pattern(alias: &str, case_sensitive: bool) -> String {
    let starts_word = alias.chars().next().is_some_and(is_word_char);
    let ends_word = alias.chars().next_back().is_some_and(is_word_char);
    format!(
        "{}{}{}{}",
        if starts_word { r"(?:^|[^\w])" } else { "" },
        if case_sensitive { "(?-i:" } else { "(?i:" },
        regex::escape(alias),
        if ends_word { r")(?:[^\w]|$)" } else { ")" },
    )
}

/// Appends `src` to `out` with curly quotes made straight, dashes made hyphens and every
/// run of whitespace (tabs, newlines, no-break spaces) made one space.
fn normalise_into(src: &str, out: &mut String) {
    let mut in_space = false;
    for c in src.chars() {
        let c = match c {
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' => '\'',
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' => '"',
            '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
            c if c.is_whitespace() => {
                if !in_space {
                    out.push(' ');
                    in_space = true;
                }
                continue;
            }
            c => c,
        };
        in_space = false;
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalise(src: &str) -> String {
        let mut out = String::new();
        normalise_into(src, &mut out);
        out
    }

    #[test]
    fn normalises_quotes_dashes_and_whitespace() {
        assert_eq!(
            normalise("China\u{2019}s \u{201C}x\u{201D}\t\t2016\u{2013}2020 \u{2014} a \n\u{a0} b"),
            "China's \"x\" 2016-2020 - a b"
        );
    }

    #[test]
    fn acronym_detection() {
        assert!(is_acronym("SCORE"));
        assert!(is_acronym("G20"));
        assert!(is_acronym("ILO-SAWS"));
        assert!(!is_acronym("HealthWISE"));
        assert!(!is_acronym("2016"));
        assert!(!is_acronym("Asia-Pacific"));
    }

    #[test]
    fn patterns_only_bound_word_edges() {
        assert_eq!(pattern("SCORE", true), r"(?:^|[^\w])(?-i:SCORE)(?:[^\w]|$)");
        assert_eq!(pattern("(DWCP)", false), r"(?i:\(DWCP\))");
    }
}
