//! Full-text search of the archive's releases: the search language (`language`) and the index
//! that answers it (`SearchIndex`), a tantivy index of every release's title and summary kept
//! beside the database, which stays the source of truth.
//!
//! One search is resolved once against the index's vocabulary (`resolve`: stems, the completions
//! of the word being typed, the corrections of misspelt words), then its matches are gathered
//! once (`matches`: every matching release with its BM25 score, publication day, id and tags)
//! and every answer a search page needs is read from that one pass: the page in any order, the
//! exact count, and the facets per day, programme and office (`Matches`). Suggestions for the
//! word being typed come from the same vocabulary (`suggest`).
//!
//! The index knows nothing of databases: the caller feeds it releases (`IndexedRelease`) and
//! says which position of the archive's change log they bring it to (`IndexState`), which the
//! index keeps in its commits, so that a restart continues from there.

mod edits;
mod error;
mod fields;
mod index;
pub mod language;
mod matches;
pub mod oracle;
mod resolve;
mod segment_table;
mod snapshot;
mod suggest;

pub use edits::{edit_distance, max_edits};
pub use fields::TITLE_WEIGHT;
pub use index::{IndexError, IndexState, IndexedRelease, Indexer, Opened, Rebuild, SearchIndex};
pub use language::{MAX_SEARCH_CHARS, SearchQuery, SearchTooLong, is_stop_word, stem};
pub use matches::{Facets, Filter, Hit, Key, Matches, Order, PageSpec};
pub use resolve::{
    Correction, MIN_PREFIX_CHARS, Resolved, ResolvedTerm, Vocabulary, stems_of, words_of,
};
pub use suggest::WordSuggestion;
