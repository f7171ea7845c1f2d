//! A parsed search resolved against the archive's vocabulary: each word becomes the set of
//! stems it matches, by the rule the schema documents:
//!
//! 1. a word whose stem occurs in the archive matches that stem, and nothing else;
//! 2. otherwise the word being typed (the text's last plain word), from
//!    [`MIN_PREFIX_CHARS`] letters, matches the stems of the archive's words it begins;
//! 3. otherwise a word of 5 letters or more matches the stems of the archive's words within
//!    [`max_edits`] edits of it, and the answer reports the correction;
//! 4. otherwise it matches nothing.
//!
//! Exclusions and phrases match exactly (rule 1 only). The resolved query is evaluated by the
//! index (`to_query`: BM25F over title and summary, a title word counting
//! [`TITLE_WEIGHT`](crate::fields::TITLE_WEIGHT) times)
//! and, for a handful of releases in memory, by [`Resolved::matches`] (live updates), with the
//! same outcome.

use std::collections::{BTreeSet, HashSet};

use tantivy::Term;
use tantivy::query::{
    BooleanQuery, ConstScoreQuery, EmptyQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::IndexRecordOption;

use crate::edits::max_edits;
use crate::fields::{Fields, MAX_WORD_BYTES};
use crate::language::{SearchQuery, Term as QueryTerm, stem};
use crate::snapshot::Snapshot;

/// The shortest word being typed that is completed from the vocabulary.
pub const MIN_PREFIX_CHARS: usize = 3;

/// A misspelt word and the archive's words it was matched to instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    pub word: String,
    /// Ascending.
    pub replacements: Vec<String>,
}

/// One term of a resolved group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolvedTerm {
    /// A release containing a word with any of these stems.
    Word {
        stems: BTreeSet<String>,
        negated: bool,
    },
    /// A release with these stems at consecutive positions of its title or of its summary.
    Phrase { stems: Vec<String>, negated: bool },
}

/// A search resolved against a vocabulary: groups of terms (any group, all positive terms of
/// it, none of its negated ones), and the corrections made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    pub groups: Vec<Vec<ResolvedTerm>>,
    pub corrections: Vec<Correction>,
}

/// The archive's words, as resolution asks about them.
pub trait Vocabulary {
    /// Whether some release has a word with this stem in its title or summary.
    fn has_stem(&self, stem: &str) -> bool;
    /// The archive's words that begin with `prefix` (and are longer than it).
    fn completions(&self, prefix: &str) -> BTreeSet<String>;
    /// The archive's words within `edits` edits of `word`.
    fn near(&self, word: &str, edits: u8) -> BTreeSet<String>;
}

impl Resolved {
    pub fn resolve(query: &SearchQuery, vocabulary: &dyn Vocabulary) -> Resolved {
        let mut corrections = Vec::new();
        let groups = query
            .groups
            .iter()
            .map(|group| {
                group
                    .iter()
                    .map(|term| resolve_term(term, vocabulary, &mut corrections))
                    .collect()
            })
            .collect();
        corrections.sort_by(|a: &Correction, b| a.word.cmp(&b.word));
        corrections.dedup();
        Resolved {
            groups,
            corrections,
        }
    }

    /// Stems the positive terms match: what a highlight marks.
    pub fn positive_stems(&self) -> HashSet<String> {
        let mut stems = HashSet::new();
        for term in self.groups.iter().flatten() {
            match term {
                ResolvedTerm::Word {
                    stems: words,
                    negated: false,
                } => stems.extend(words.iter().cloned()),
                ResolvedTerm::Phrase {
                    stems: words,
                    negated: false,
                } => stems.extend(words.iter().cloned()),
                _ => {}
            }
        }
        stems
    }

    /// Whether a release with this title and summary matches, evaluated in memory.
    pub fn matches(&self, title: &str, summary: &str) -> bool {
        self.matches_stems(&[stems_of(title), stems_of(summary)])
    }

    /// [`Resolved::matches`] for a title's and a summary's stems ([`stems_of`]), computed once.
    pub fn matches_stems(&self, fields: &[Vec<String>; 2]) -> bool {
        self.groups.iter().any(|group| {
            group.iter().any(|term| !term.negated())
                && group
                    .iter()
                    .all(|term| term.found_in(fields) != term.negated())
        })
    }

    /// The query the index runs.
    pub(crate) fn to_query(&self, fields: &Fields) -> Box<dyn Query> {
        let groups: Vec<(Occur, Box<dyn Query>)> = self
            .groups
            .iter()
            .map(|group| {
                let clauses: Vec<(Occur, Box<dyn Query>)> = group
                    .iter()
                    .map(|term| {
                        let occur = if term.negated() {
                            Occur::MustNot
                        } else {
                            Occur::Must
                        };
                        (occur, term.to_query(fields))
                    })
                    .collect();
                (Occur::Should, single_or(clauses))
            })
            .collect();
        if groups.is_empty() {
            return Box::new(EmptyQuery);
        }
        single_or(groups)
    }
}

/// `clauses` as one query; a lone positive clause as itself.
fn single_or(mut clauses: Vec<(Occur, Box<dyn Query>)>) -> Box<dyn Query> {
    if clauses.len() == 1
        && clauses[0].0 != Occur::MustNot
        && let Some((_, query)) = clauses.pop()
    {
        return query;
    }
    Box::new(BooleanQuery::new(clauses))
}

impl ResolvedTerm {
    fn negated(&self) -> bool {
        match self {
            ResolvedTerm::Word { negated, .. } | ResolvedTerm::Phrase { negated, .. } => *negated,
        }
    }

    fn found_in(&self, fields: &[Vec<String>; 2]) -> bool {
        match self {
            ResolvedTerm::Word { stems, .. } => fields
                .iter()
                .flatten()
                .any(|word| stems.contains(word.as_str())),
            ResolvedTerm::Phrase { stems, .. } => fields.iter().any(|words| {
                !stems.is_empty()
                    && words
                        .windows(stems.len())
                        .any(|window| window.iter().eq(stems.iter()))
            }),
        }
    }

    /// The term as tantivy evaluates it. A word is its stems in `text`, scored by BM25F. A
    /// phrase must stand in the title or in the summary (unscored), and is scored as its
    /// words are in `text`, so that every search ranks on one formula.
    fn to_query(&self, fields: &Fields) -> Box<dyn Query> {
        let ranked = |stem: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(fields.text, stem),
                IndexRecordOption::WithFreqs,
            ))
        };
        match self {
            ResolvedTerm::Word { stems, .. } => {
                if let [stem] = stems.iter().collect::<Vec<_>>().as_slice() {
                    return ranked(stem);
                }
                Box::new(BooleanQuery::new(
                    stems
                        .iter()
                        .map(|stem| (Occur::Should, ranked(stem)))
                        .collect(),
                ))
            }
            ResolvedTerm::Phrase { stems, .. } => {
                let standing: Vec<(Occur, Box<dyn Query>)> = [fields.title, fields.summary]
                    .into_iter()
                    .map(|field| {
                        let phrase: Box<dyn Query> = Box::new(PhraseQuery::new(
                            stems
                                .iter()
                                .map(|stem| Term::from_field_text(field, stem))
                                .collect(),
                        ));
                        (Occur::Should, phrase)
                    })
                    .collect();
                let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(
                    Occur::Must,
                    Box::new(ConstScoreQuery::new(
                        Box::new(BooleanQuery::new(standing)),
                        0.0,
                    )),
                )];
                let distinct: BTreeSet<&String> = stems.iter().collect();
                clauses.extend(distinct.into_iter().map(|stem| (Occur::Must, ranked(stem))));
                Box::new(BooleanQuery::new(clauses))
            }
        }
    }
}

fn resolve_term(
    term: &QueryTerm,
    vocabulary: &dyn Vocabulary,
    corrections: &mut Vec<Correction>,
) -> ResolvedTerm {
    let negated = term.negated;
    if term.words.len() > 1 {
        return ResolvedTerm::Phrase {
            stems: term.words.iter().map(|word| stem(word)).collect(),
            negated,
        };
    }
    let Some(word) = term.words.first() else {
        return ResolvedTerm::Word {
            stems: BTreeSet::new(),
            negated,
        };
    };
    let own = stem(word);
    if negated || term.phrase || vocabulary.has_stem(&own) {
        return ResolvedTerm::Word {
            stems: BTreeSet::from([own]),
            negated,
        };
    }
    let mut stems = BTreeSet::new();
    if term.prefix && word.chars().count() >= MIN_PREFIX_CHARS {
        stems.extend(vocabulary.completions(word).iter().map(|word| stem(word)));
    }
    // A word longer than any the index keeps has no neighbour in it either.
    if stems.is_empty() && word.len() <= MAX_WORD_BYTES + 2 {
        let edits = max_edits(word);
        if edits > 0 {
            let near = vocabulary.near(word, edits);
            if !near.is_empty() {
                stems.extend(near.iter().map(|word| stem(word)));
                corrections.push(Correction {
                    word: word.clone(),
                    replacements: near.into_iter().collect(),
                });
            }
        }
    }
    if stems.is_empty() {
        // Nothing in the archive: the word keeps its own stem and matches nothing.
        stems.insert(own);
    }
    ResolvedTerm::Word { stems, negated }
}

/// The stems of a text's words, in order, as the index cuts it.
pub fn stems_of(text: &str) -> Vec<String> {
    words_of(text).map(|word| stem(&word)).collect()
}

/// The lower-case words of a text as the index cuts it: runs of letters and digits, at most
/// [`MAX_WORD_BYTES`] long as written.
pub fn words_of(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty() && word.len() <= MAX_WORD_BYTES)
        .map(str::to_lowercase)
}

impl Vocabulary for Snapshot {
    fn has_stem(&self, stem: &str) -> bool {
        self.searcher.segment_readers().iter().any(|reader| {
            reader
                .inverted_index(self.fields.text)
                .ok()
                .and_then(|index| index.terms().get(stem.as_bytes()).ok().flatten())
                .is_some_and(|info| info.doc_freq > 0)
        })
    }

    fn completions(&self, prefix: &str) -> BTreeSet<String> {
        let mut words = BTreeSet::new();
        for reader in self.searcher.segment_readers() {
            let Ok(index) = reader.inverted_index(self.fields.words) else {
                continue;
            };
            let Ok(mut stream) = index.terms().range().gt(prefix.as_bytes()).into_stream() else {
                continue;
            };
            while let Some((key, _)) = stream.next() {
                if !key.starts_with(prefix.as_bytes()) {
                    break;
                }
                if let Ok(word) = std::str::from_utf8(key) {
                    words.insert(word.to_owned());
                }
            }
        }
        words
    }

    fn near(&self, word: &str, edits: u8) -> BTreeSet<String> {
        let mut words = BTreeSet::new();
        let Ok(automaton) =
            FuzzyTermQuery::new(Term::from_field_text(self.fields.words, word), edits, true)
                .automaton()
        else {
            return words;
        };
        for reader in self.searcher.segment_readers() {
            let Ok(index) = reader.inverted_index(self.fields.words) else {
                continue;
            };
            let Ok(mut stream) = index.terms().search(&automaton).into_stream() else {
                continue;
            };
            while let Some((key, _)) = stream.next() {
                if let Ok(found) = std::str::from_utf8(key)
                    && found != word
                {
                    words.insert(found.to_owned());
                }
            }
        }
        words
    }
}
