//! The matching rule evaluated by brute force over a corpus held in memory: the reference the
//! index is tested against (exact counts and facets), with nothing of tantivy in it.

use std::collections::{BTreeSet, HashSet};

use crate::edits::edit_distance;
use crate::language::stem;
use crate::resolve::{Vocabulary, words_of};

/// Every word and stem of a corpus's titles and summaries.
#[derive(Debug, Default)]
pub struct CorpusVocabulary {
    words: HashSet<String>,
    stems: HashSet<String>,
}

impl CorpusVocabulary {
    pub fn add(&mut self, text: &str) {
        for word in words_of(text) {
            if !self.words.contains(&word) {
                self.stems.insert(stem(&word));
                self.words.insert(word);
            }
        }
    }
}

impl Vocabulary for CorpusVocabulary {
    fn has_stem(&self, stem: &str) -> bool {
        self.stems.contains(stem)
    }

    fn completions(&self, prefix: &str) -> BTreeSet<String> {
        self.words
            .iter()
            .filter(|word| word.len() > prefix.len() && word.starts_with(prefix))
            .cloned()
            .collect()
    }

    fn near(&self, word: &str, edits: u8) -> BTreeSet<String> {
        self.words
            .iter()
            .filter(|candidate| {
                candidate.as_str() != word && edit_distance(candidate, word) <= usize::from(edits)
            })
            .cloned()
            .collect()
    }
}
