//! Suggestions as the user types: the archive's words that complete the word being typed, each
//! with how many releases the search would find with it, under the current filter.
//!
//! Candidates are the completions the most releases contain (the vocabulary's document
//! frequencies, summed over segments), one per stem (its most frequent form); each is then
//! counted exactly with the rest of the search and the filter, and those that would find
//! nothing are left out.

use std::collections::BTreeMap;

use tantivy::query::EnableScoring;

use crate::error::IndexError;
use crate::language::SearchQuery;
use crate::matches::Filter;
use crate::resolve::Resolved;
use crate::snapshot::Snapshot;

/// A completion of the word being typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordSuggestion {
    /// The completed word.
    pub word: String,
    /// The search text with the word being typed replaced by `word`.
    pub text: String,
    /// Releases the completed search finds under the filter.
    pub count: u64,
}

/// At most `first` completions of the word `text` ends with in `snapshot` (see
/// `SearchIndex::suggest`).
pub(crate) fn suggest(
    snapshot: &Snapshot,
    text: &str,
    query: &SearchQuery,
    filter: &Filter,
    first: usize,
) -> Result<Vec<WordSuggestion>, IndexError> {
    {
        let Some(typed) = query.typed_word() else {
            return Ok(Vec::new());
        };
        let mut frequencies: BTreeMap<String, u64> = BTreeMap::new();
        for reader in snapshot.searcher.segment_readers() {
            let index = reader.inverted_index(snapshot.fields.words)?;
            let mut stream = index.terms().range().ge(typed.as_bytes()).into_stream()?;
            while let Some((key, info)) = stream.next() {
                if !key.starts_with(typed.as_bytes()) {
                    break;
                }
                if let Ok(word) = std::str::from_utf8(key) {
                    *frequencies.entry(word.to_owned()).or_default() += u64::from(info.doc_freq);
                }
            }
        }
        let mut candidates: Vec<(String, u64)> = frequencies.into_iter().collect();
        candidates.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        // Words of one stem find the same releases: only the most frequent form is offered.
        let mut stems = std::collections::HashSet::new();
        candidates.retain(|(word, _)| stems.insert(crate::language::stem(word)));
        candidates.truncate(first);
        let mut suggestions = Vec::with_capacity(candidates.len());
        for (word, _) in candidates {
            let completed = query.with_typed_word(&word);
            let resolved = Resolved::resolve(&completed, snapshot);
            let count = count_resolved(snapshot, &resolved, filter)?;
            if count > 0 {
                suggestions.push(WordSuggestion {
                    text: complete(text, &word),
                    word,
                    count,
                });
            }
        }
        suggestions.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.word.cmp(&b.word)));
        Ok(suggestions)
    }
}

/// How many releases `resolved` matches in `snapshot` under `filter`, without scoring.
fn count_resolved(
    snapshot: &Snapshot,
    resolved: &Resolved,
    filter: &Filter,
) -> Result<u64, IndexError> {
    {
        let query = resolved.to_query(&snapshot.fields);
        let weight = query.weight(EnableScoring::disabled_from_searcher(&snapshot.searcher))?;
        let mut count = 0u64;
        for (reader, table) in snapshot
            .searcher
            .segment_readers()
            .iter()
            .zip(&snapshot.tables)
        {
            let check = crate::matches::Check::new(filter, table);
            let alive = reader.alive_bitset();
            weight.for_each_no_score(reader, &mut |docs| {
                for doc in docs {
                    if check.all(*doc) && alive.is_none_or(|alive| alive.is_alive(*doc)) {
                        count += 1;
                    }
                }
            })?;
        }
        Ok(count)
    }
}

/// `text` with its last word (run of letters and digits) replaced by `word`.
fn complete(text: &str, word: &str) -> String {
    let trimmed = text.trim_end_matches(|c: char| !c.is_alphanumeric());
    let start = trimmed
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric())
        .last()
        .map_or(trimmed.len(), |(index, _)| index);
    format!("{}{word}", &trimmed[..start])
}

#[cfg(test)]
mod tests {
    use super::complete;

    #[test]
    fn completes_the_last_word() {
        assert_eq!(complete("social secu", "security"), "social security");
        assert_eq!(complete("Appren", "apprenticeship"), "apprenticeship");
        assert_eq!(complete("\"decent\" wor!", "work"), "\"decent\" work");
    }
}
