//! `searchSuggestions`: what a search box offers as the user types. The word being typed is
//! completed from the archive's vocabulary (each completion with how many releases the
//! completed search would find under the filter, from the search index), and the programmes
//! and offices whose name, acronym or slug match the text are offered beside.

use async_graphql::{Context, SimpleObject};

use crate::error::ApiError;
use crate::schema::context::store;
use crate::schema::filter::ReleaseFilter;
use crate::schema::objects::{Office, Programme};
use crate::store::search::{MAX_SUGGESTIONS, SearchQuery};

/// What a search box can offer for the text typed so far.
#[derive(Debug, SimpleObject)]
pub struct SearchSuggestions {
    /// Completions of the word being typed, most releases first (ties alphabetical). Each
    /// would find at least one release under the filter.
    pub words: Vec<WordSuggestion>,
    /// Programmes whose name, acronym or slug contains the text, by name.
    pub programmes: Vec<Programme>,
    /// Offices whose name, acronym or slug contains the text, by name.
    pub offices: Vec<Office>,
}

/// A completion of the word being typed.
#[derive(Debug, SimpleObject)]
pub struct WordSuggestion {
    /// The completed word, e.g. `apprenticeship` for `appren`.
    pub word: String,
    /// The whole search text with the word completed: pass it as `ReleaseFilter.search`.
    pub text: String,
    /// How many releases that search finds under the filter.
    pub count: u64,
}

/// Resolves `Query.searchSuggestions`: arguments checked first; an empty text (or one with no
/// word being typed, e.g. ending in a space) gives no word suggestions.
pub async fn search_suggestions(
    ctx: &Context<'_>,
    text: String,
    filter: Option<ReleaseFilter>,
    first: i32,
) -> Result<SearchSuggestions, ApiError> {
    if !(1..=MAX_SUGGESTIONS).contains(&first) {
        return Err(ApiError::SuggestionCountOutOfRange(first));
    }
    let mut filter = filter.unwrap_or_default();
    if filter.search.is_some() {
        return Err(ApiError::SuggestionsWithSearch);
    }
    SearchQuery::parse(&text)?;
    let store = store(ctx)?;
    if !store.searches_index() {
        return Err(ApiError::SuggestionsWithoutIndex);
    }
    let needle = text.trim().to_lowercase();
    if needle.is_empty() {
        return Ok(SearchSuggestions {
            words: Vec::new(),
            programmes: Vec::new(),
            offices: Vec::new(),
        });
    }
    filter.search = Some(text.clone());
    let criteria = filter.resolve(store).await?;
    let first = usize::try_from(first).unwrap_or(1);
    let (words, programmes, offices) = futures::try_join!(
        store.search_suggestions(&text, &criteria, first),
        store.programmes(),
        store.offices(),
    )?;
    let matches = |name: &str, acronym: Option<&str>, slug: &str| {
        name.to_lowercase().contains(&needle)
            || acronym.is_some_and(|acronym| acronym.to_lowercase().contains(&needle))
            || slug.contains(&needle)
    };
    Ok(SearchSuggestions {
        words: words
            .unwrap_or_default()
            .into_iter()
            .map(|word| WordSuggestion {
                word: word.word,
                text: word.text,
                count: word.count,
            })
            .collect(),
        programmes: programmes
            .into_iter()
            .filter(|p| matches(&p.name, p.acronym.as_deref(), &p.slug))
            .take(first)
            .map(Programme)
            .collect(),
        offices: offices
            .into_iter()
            .filter(|o| matches(&o.name, o.acronym.as_deref(), &o.slug))
            .take(first)
            .map(Office)
            .collect(),
    })
}
