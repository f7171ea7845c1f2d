//! The search language: what a client types in `ReleaseFilter.search`, parsed once per request.
//!
//! The text becomes a small query: groups joined by `or`, each group a list of terms that must
//! all match — words, `"quoted phrases"` and `-excluded` words or phrases. Only letters and
//! digits survive inside words, so nothing the client types reaches an index or a database as
//! query syntax. The last word of the text, when it is a plain word, is the word being typed:
//! it also matches as a prefix, so a search box can search as the user types.
//!
//! Rules that hold wherever the query is evaluated (the index, `crate::oracle`, and the SQL
//! renderings below, which the live updates' matching uses):
//! - English stop words (PostgreSQL's list) are not searched for, except inside a phrase, where
//!   they hold the other words apart.
//! - A group made only of exclusions (`-china`, or `a or -b`'s second group) matches nothing.
//! - A word with punctuation inside (`ILO's`, `non-standard`) is searched as a phrase of its
//!   parts, as `websearch_to_tsquery` does.
//!
//! Highlighting is done here, identically for every backend: a word is marked when its Snowball
//! English stem equals that of a searched word (or of the correction used for it), or when it
//! starts with the word being typed.

use std::collections::HashSet;
use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};

/// Longest search text accepted, in characters.
pub const MAX_SEARCH_CHARS: usize = 500;

/// A search text longer than [`MAX_SEARCH_CHARS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the search is {length} characters long: use at most {MAX_SEARCH_CHARS}")]
pub struct SearchTooLong {
    pub length: usize,
}

/// PostgreSQL's English stop words (`tsearch_data/english.stop`).
const STOP_WORDS: &[&str] = &[
    "i",
    "me",
    "my",
    "myself",
    "we",
    "our",
    "ours",
    "ourselves",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "he",
    "him",
    "his",
    "himself",
    "she",
    "her",
    "hers",
    "herself",
    "it",
    "its",
    "itself",
    "they",
    "them",
    "their",
    "theirs",
    "themselves",
    "what",
    "which",
    "who",
    "whom",
    "this",
    "that",
    "these",
    "those",
    "am",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "have",
    "has",
    "had",
    "having",
    "do",
    "does",
    "did",
    "doing",
    "a",
    "an",
    "the",
    "and",
    "but",
    "if",
    "or",
    "because",
    "as",
    "until",
    "while",
    "of",
    "at",
    "by",
    "for",
    "with",
    "about",
    "against",
    "between",
    "into",
    "through",
    "during",
    "before",
    "after",
    "above",
    "below",
    "to",
    "from",
    "up",
    "down",
    "in",
    "out",
    "on",
    "off",
    "over",
    "under",
    "again",
    "further",
    "then",
    "once",
    "here",
    "there",
    "when",
    "where",
    "why",
    "how",
    "all",
    "any",
    "both",
    "each",
    "few",
    "more",
    "most",
    "other",
    "some",
    "such",
    "no",
    "nor",
    "not",
    "only",
    "own",
    "same",
    "so",
    "than",
    "too",
    "very",
    "s",
    "t",
    "can",
    "will",
    "just",
    "don",
    "should",
    "now",
];

static STOP_WORD_SET: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| STOP_WORDS.iter().copied().collect());

/// Whether a lower-case word is one of PostgreSQL's English stop words.
pub fn is_stop_word(word: &str) -> bool {
    STOP_WORD_SET.contains(word)
}

/// The Snowball English stem of a lower-case word, as the index stores it.
pub fn stem(word: &str) -> String {
    Stemmer::create(Algorithm::English).stem(word).into_owned()
}

/// One thing to look for: a word, or a phrase of consecutive words. Words are lower case and
/// hold only letters and digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Term {
    pub(crate) words: Vec<String>,
    /// Written in quotes, or split from one word at punctuation: match the words in sequence.
    pub(crate) phrase: bool,
    /// `-word`: releases containing it are left out.
    pub(crate) negated: bool,
    /// The last word of the text, a plain word: it also matches as a prefix.
    pub(crate) prefix: bool,
}

impl Term {
    fn only_stop_words(&self) -> bool {
        self.words.iter().all(|word| is_stop_word(word))
    }
}

/// A parsed search: releases matching any group, where a group matches when all its positive
/// terms do and none of its negated ones. Empty when nothing searchable was given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    pub(crate) groups: Vec<Vec<Term>>,
    /// Stems of the searched words (stop words and exclusions left out), for highlighting.
    stems: HashSet<String>,
    /// The word being typed, for highlighting.
    prefix: Option<String>,
}

/// A piece of the search text before grouping.
enum Piece {
    Or,
    Term(Term),
}

impl SearchQuery {
    /// Parses what a client typed. Punctuation outside words is ignored; `"…"` is a phrase,
    /// a leading `-` excludes, a bare `or` (any case) separates alternatives.
    pub fn parse(text: &str) -> Result<SearchQuery, SearchTooLong> {
        let length = text.chars().count();
        if length > MAX_SEARCH_CHARS {
            return Err(SearchTooLong { length });
        }
        let pieces = lex(text);
        Ok(SearchQuery::from_pieces(pieces))
    }

    fn from_pieces(mut pieces: Vec<Piece>) -> SearchQuery {
        if let Some(Piece::Term(last)) = pieces.last_mut()
            && !last.phrase
            && !last.negated
            && last.words.len() == 1
        {
            last.prefix = true;
        }
        let mut groups: Vec<Vec<Term>> = vec![Vec::new()];
        for piece in pieces {
            match piece {
                Piece::Or => groups.push(Vec::new()),
                // Stop words are not in PostgreSQL's index; FTS5 would require them. Inside a
                // phrase they are kept: they hold the other words apart.
                Piece::Term(term) if term.only_stop_words() => {}
                Piece::Term(term) => {
                    if let Some(group) = groups.last_mut() {
                        group.push(term);
                    }
                }
            }
        }
        // A group without a positive term would match "everything but", which FTS5 cannot
        // express: it matches nothing, on both backends.
        groups.retain(|group| group.iter().any(|term| !term.negated));

        let positive_words = groups
            .iter()
            .flatten()
            .filter(|term| !term.negated)
            .flat_map(|term| term.words.iter());
        let stems = positive_words
            .filter(|word| !is_stop_word(word))
            .map(|word| stem(word))
            .collect();
        let prefix = groups
            .last()
            .and_then(|group| group.last())
            .filter(|term| term.prefix)
            .and_then(|term| term.words.first().cloned());
        SearchQuery {
            groups,
            stems,
            prefix,
        }
    }

    /// The word being typed: the text's last plain word, if it ends with one.
    pub fn typed_word(&self) -> Option<&str> {
        self.prefix_and_rest().map(|(word, _)| word)
    }

    /// This search with the word being typed replaced by `word`, complete (not a prefix).
    pub fn with_typed_word(&self, word: &str) -> SearchQuery {
        let mut query = self.clone();
        if let Some(last) = query.groups.last_mut().and_then(|group| group.last_mut())
            && last.prefix
        {
            last.words = vec![word.to_owned()];
            last.prefix = false;
        }
        query.prefix = None;
        query.stems.insert(stem(word));
        query
    }

    /// This search highlighting exactly the words with these stems (what it was resolved to:
    /// completions and corrections included), and no prefix.
    pub fn highlighting(&self, stems: HashSet<String>) -> SearchQuery {
        SearchQuery {
            groups: self.groups.clone(),
            stems,
            prefix: None,
        }
    }

    /// Whether nothing searchable is left (only punctuation, operators or stop words).
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The whole search in `websearch_to_tsquery` syntax.
    pub fn websearch_text(&self) -> String {
        websearch_text(&self.groups)
    }

    /// The word being typed as a `to_tsquery` prefix (`'word':*`), and the rest of its group
    /// in `websearch_to_tsquery` syntax (`None` when the word is alone in its group): PostgreSQL
    /// matches the search, or that rest AND the prefix, so a search box can search as the user
    /// types. `None` when the search does not end with a plain word.
    pub fn typed_prefix(&self) -> Option<(String, Option<String>)> {
        let (prefix, rest) = self.prefix_and_rest()?;
        let rest = (!rest.is_empty()).then(|| websearch_text(&[rest]));
        Some((format!("'{prefix}':*"), rest))
    }

    /// The word being typed and the rest of its group.
    fn prefix_and_rest(&self) -> Option<(&str, Vec<Term>)> {
        let group = self.groups.last()?;
        let (last, rest) = group.split_last()?;
        if !last.prefix {
            return None;
        }
        Some((last.words.first()?.as_str(), rest.to_vec()))
    }

    /// The query as an FTS5 expression: `("a" AND "b c" AND "d"*) NOT ("e") OR (…)`.
    pub fn fts5(&self) -> String {
        let groups: Vec<String> = self
            .groups
            .iter()
            .map(|group| {
                let render = |term: &Term| {
                    let star = if term.prefix { "*" } else { "" };
                    format!("\"{}\"{star}", term.words.join(" "))
                };
                let positive: Vec<String> = group
                    .iter()
                    .filter(|term| !term.negated)
                    .map(render)
                    .collect();
                let negative: Vec<String> = group
                    .iter()
                    .filter(|term| term.negated)
                    .map(render)
                    .collect();
                let mut text = format!("({})", positive.join(" AND "));
                if !negative.is_empty() {
                    text.push_str(&format!(" NOT ({})", negative.join(" OR ")));
                }
                format!("({text})")
            })
            .collect();
        groups.join(" OR ")
    }

    /// `text` HTML-escaped, with the words this search matches wrapped in `<mark>…</mark>`;
    /// and whether any word was marked.
    pub fn highlight(&self, text: &str) -> (String, bool) {
        let mut out = String::with_capacity(text.len() + 32);
        let mut marked = false;
        let mut word = String::new();
        let mut flush = |word: &mut String, out: &mut String| {
            if word.is_empty() {
                return;
            }
            if self.matches_word(word) {
                marked = true;
                out.push_str("<mark>");
                out.push_str(word);
                out.push_str("</mark>");
            } else {
                out.push_str(word);
            }
            word.clear();
        };
        for c in text.chars() {
            if c.is_alphanumeric() {
                word.push(c);
            } else {
                flush(&mut word, &mut out);
                push_escaped(c, &mut out);
            }
        }
        flush(&mut word, &mut out);
        (out, marked)
    }

    fn matches_word(&self, word: &str) -> bool {
        let lower = word.to_lowercase();
        if self
            .prefix
            .as_deref()
            .is_some_and(|prefix| lower.starts_with(prefix))
        {
            return true;
        }
        !is_stop_word(&lower) && self.stems.contains(&stem(&lower))
    }
}

/// The groups in `websearch_to_tsquery` syntax. Every term is quoted; words hold only letters
/// and digits, so no operator can appear but the ones written here.
fn websearch_text(groups: &[Vec<Term>]) -> String {
    groups
        .iter()
        .map(|group| {
            group
                .iter()
                .map(|term| {
                    let minus = if term.negated { "-" } else { "" };
                    format!("{minus}\"{}\"", term.words.join(" "))
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Splits the search text into terms and `or`s.
fn lex(text: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut negated = false;
        while chars.next_if_eq(&'-').is_some() {
            negated = true;
        }
        let Some(&first) = chars.peek() else {
            break;
        };
        if first == '"' {
            chars.next();
            let mut inside = String::new();
            while let Some(c) = chars.next_if(|c| *c != '"') {
                inside.push(c);
            }
            chars.next(); // the closing quote, if any
            let words = words_of(&inside);
            if !words.is_empty() {
                pieces.push(Piece::Term(Term {
                    words,
                    phrase: true,
                    negated,
                    prefix: false,
                }));
            }
            continue;
        }
        let mut raw = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '"') {
            raw.push(c);
        }
        if !negated && raw.eq_ignore_ascii_case("or") {
            pieces.push(Piece::Or);
            continue;
        }
        let words = words_of(&raw);
        if !words.is_empty() {
            pieces.push(Piece::Term(Term {
                phrase: words.len() > 1,
                words,
                negated,
                prefix: false,
            }));
        }
    }
    pieces
}

/// The lower-case runs of letters and digits in `text`.
fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn push_escaped(c: char, out: &mut String) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        _ => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> SearchQuery {
        SearchQuery::parse(text).unwrap()
    }

    #[test]
    fn punctuation_and_operators_alone_are_empty() {
        for text in [
            "", "   ", "\"", "-", "!!!", "or", "OR or", "\"\"", "- - -", "%", "_", "\\", "the of",
        ] {
            assert!(parse(text).is_empty(), "{text:?}");
        }
        assert!(parse("-china").is_empty(), "exclusions alone match nothing");
        assert!(SearchQuery::parse(&"a".repeat(MAX_SEARCH_CHARS + 1)).is_err());
    }

    #[test]
    fn fts5_expressions() {
        assert_eq!(parse("herder").fts5(), r#"(("herder"*))"#);
        assert_eq!(
            parse(r#""social security" china"#).fts5(),
            r#"(("social security" AND "china"*))"#
        );
        assert_eq!(
            parse("health -china or herders'").fts5(),
            r#"(("health") NOT ("china")) OR (("herders"*))"#
        );
        assert_eq!(
            parse(r#"ILO's -"social security" x or"#).fts5(),
            r#"(("ilo s" AND "x") NOT ("social security"))"#
        );
        assert_eq!(
            parse(r#"'; DROP TABLE release; --"#).fts5(),
            r#"(("drop" AND "table" AND "release"*))"#
        );
        assert_eq!(
            parse("the health and safety").fts5(),
            r#"(("health" AND "safety"*))"#
        );
    }

    #[test]
    fn the_typed_word_is_a_prefix_beside_the_rest_of_its_group() {
        let search = parse("health -china or herders'");
        assert_eq!(search.websearch_text(), r#""health" -"china" or "herders""#);
        assert_eq!(
            search.typed_prefix(),
            Some(("'herders':*".to_owned(), None))
        );
        let search = parse("health -china or quality appren");
        assert_eq!(
            search.websearch_text(),
            r#""health" -"china" or "quality" "appren""#
        );
        assert_eq!(
            search.typed_prefix(),
            Some(("'appren':*".to_owned(), Some(r#""quality""#.to_owned())))
        );
        let search = parse(r#"a1 "social security""#);
        assert_eq!(search.websearch_text(), r#""a1" "social security""#);
        assert_eq!(search.typed_prefix(), None);
    }

    #[test]
    fn highlights_escape_everything_but_marks() {
        let search = parse("workshop herder apprentice");
        let (text, marked) = search
            .highlight(r#"Workshops & <script>alert("x")</script> for Herders' apprenticeships"#);
        assert!(marked);
        assert_eq!(
            text,
            "<mark>Workshops</mark> &amp; &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; for \
             <mark>Herders</mark>&#39; <mark>apprenticeships</mark>"
        );
        let (text, marked) = parse("china -herders").highlight("Herders in China");
        assert!(marked);
        assert_eq!(text, "Herders in <mark>China</mark>");
        assert_eq!(
            parse("x").highlight("a < b"),
            ("a &lt; b".to_owned(), false)
        );
    }
}
