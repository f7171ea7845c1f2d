//! Searched lists and facets through the search index (`search::SearchIndex`), and the search
//! language it answers (re-exported from the `search` crate).
//!
//! A store given a [`SearchEngine`] answers every list, count and facet with a search from the
//! index: the matches of one search text and date range are gathered once per request (the
//! request's store carries the memo, so `releases` and `releaseFacets` of one request share
//! them), then the page's rows are read from the database by id, in the index's order, with
//! their tags. A store without one (a unit test, or `--search-engine database`) evaluates the
//! search in SQL (`dialect`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use model::entity::{office, programme};
use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use search::{
    Correction, Facets, Filter, Hit, Key, Matches, Order, PageSpec, SearchIndex, WordSuggestion,
};
pub use search::{MAX_SEARCH_CHARS, SearchQuery, SearchTooLong};

use crate::store::criteria::{Criteria, Scope};
use crate::store::page::{Cursor, Direction, ListOrder, PageRequest, PageRow, Position};
use crate::store::tags::{EmbeddedTags, TagSelection};
use crate::store::{Store, StoreError};

/// Requests that may hold matches per search computing at once (see [`SearchEngine::new`]).
const HOLDERS_PER_SEARCH: usize = 8;

/// Most matches a page or facets pass reads on the request's own thread (0.1 ms at most).
const INLINE_MATCHES: usize = 20_000;

/// Most completions `searchSuggestions` gives at once.
pub const MAX_SUGGESTIONS: i32 = 20;

/// The index, how many searches may compute at once (each is CPU-bound), and how many
/// requests may hold gathered matches at once.
#[derive(Debug, Clone)]
pub struct SearchEngine {
    pub index: SearchIndex,
    permits: Arc<Semaphore>,
    /// A request takes one of these before its first search gathers matches and keeps it to
    /// its end: matches take 8 bytes per release found (4 MB for the most frequent words at
    /// 1,000,000 releases), and without a bound every request waiting for a core would hold
    /// its own.
    holders: Arc<Semaphore>,
    /// Held by every clone: what keeps the index's follower running.
    alive: Arc<()>,
    /// Programmes and offices, kept across requests while the archive does not change.
    catalogue: Arc<CatalogueCache>,
}

/// The archive's change generation while every change is heard (see
/// `ops::archive_changes`); `None` while one could go unheard.
pub type Generation = Arc<dyn Fn() -> Option<u64> + Send + Sync>;

/// The catalogue as last read, with the generation it was read at. A search page names its
/// facets and tags from the catalogue; reading it for every request would cost two statements
/// out of four.
struct CatalogueCache {
    generation: Option<Generation>,
    kept: Mutex<Option<(u64, Catalogue)>>,
}

impl std::fmt::Debug for CatalogueCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogueCache")
            .field("follows_changes", &self.generation.is_some())
            .finish()
    }
}

impl CatalogueCache {
    fn current(&self) -> Option<u64> {
        self.generation.as_ref().and_then(|generation| generation())
    }

    /// The kept catalogue, if read at generation `at`.
    fn get(&self, at: u64) -> Option<Catalogue> {
        let kept = self.kept.lock().ok()?;
        kept.as_ref()
            .filter(|(generation, _)| *generation == at)
            .map(|(_, catalogue)| catalogue.clone())
    }

    /// Keeps `catalogue`, read after generation `at` began, if nothing changed since.
    fn keep(&self, at: u64, catalogue: &Catalogue) {
        if self.current() == Some(at)
            && let Ok(mut kept) = self.kept.lock()
        {
            *kept = Some((at, catalogue.clone()));
        }
    }
}

impl SearchEngine {
    /// At most `concurrent` searches compute at the same time (more would only share the same
    /// cores), and at most [`HOLDERS_PER_SEARCH`] times as many requests hold matches: enough
    /// that the cores always have a gathered search to answer while others read their rows.
    /// The catalogue is kept across requests while `generation` says nothing changed.
    pub fn new(
        index: SearchIndex,
        concurrent: usize,
        generation: Option<Generation>,
    ) -> SearchEngine {
        SearchEngine {
            index,
            permits: Arc::new(Semaphore::new(concurrent.max(1))),
            holders: Arc::new(Semaphore::new(concurrent.max(1) * HOLDERS_PER_SEARCH)),
            alive: Arc::new(()),
            catalogue: Arc::new(CatalogueCache {
                generation,
                kept: Mutex::new(None),
            }),
        }
    }

    /// Alive while any clone of this engine is.
    pub fn lifetime(&self) -> std::sync::Weak<()> {
        Arc::downgrade(&self.alive)
    }
}

/// The index as one request reads it: the engine and the matches gathered so far.
#[derive(Debug, Clone)]
pub(crate) struct SearchAccess {
    engine: SearchEngine,
    memo: Arc<Mutex<HashMap<MatchKey, MatchCell>>>,
    /// The catalogue, read once per request: facets and tags are named from it.
    catalogue: Arc<OnceCell<Catalogue>>,
    /// This request's place among those holding matches, taken at its first gathering.
    holding: Arc<OnceCell<OwnedSemaphorePermit>>,
}

/// Every programme and office, by name then slug.
pub(crate) type Catalogue = (Vec<programme::Model>, Vec<office::Model>);

/// The matches of one search, gathered by whichever field of the request asks first.
type MatchCell = Arc<OnceCell<Arc<Matches>>>;

/// A search text, as parsed.
type MatchKey = String;

impl SearchAccess {
    pub(crate) fn new(engine: SearchEngine) -> SearchAccess {
        SearchAccess {
            engine,
            memo: Arc::default(),
            catalogue: Arc::default(),
            holding: Arc::default(),
        }
    }
}

/// A searched page: its rows, the exact count when asked, and the corrections made.
#[derive(Debug)]
pub struct SearchedPage {
    pub rows: Vec<PageRow>,
    pub total: Option<u64>,
    pub corrections: Vec<Correction>,
    /// The search as resolved, for highlights (completions and corrections included).
    pub highlighting: SearchQuery,
}

/// Facets of a search, with the catalogue's rows.
#[derive(Debug)]
pub struct SearchedFacets {
    pub days: std::collections::BTreeMap<NaiveDate, i64>,
    pub programmes: Vec<(programme::Model, i64)>,
    pub offices: Vec<(office::Model, i64)>,
}

impl Store {
    /// Whether searches are answered by the index.
    pub fn searches_index(&self) -> bool {
        self.search.is_some()
    }

    /// The matches of `search`, gathered once per request. Whatever the dates asked: a page
    /// within a date range and the facets beside it (whose years and months leave the range
    /// out) then share one gathering, and filtering by date costs a comparison per match.
    async fn matches(&self, search: &SearchQuery) -> Result<Option<Arc<Matches>>, StoreError> {
        let Some(access) = &self.search else {
            return Ok(None);
        };
        let key = format!("{search:?}");
        let cell = {
            let mut memo = access
                .memo
                .lock()
                .map_err(|_| StoreError::Search("the search memo is poisoned".to_owned()))?;
            memo.entry(key).or_default().clone()
        };
        let matches = cell
            .get_or_try_init(|| async {
                access
                    .holding
                    .get_or_try_init(|| access.engine.holders.clone().acquire_owned())
                    .await
                    .map_err(|_| StoreError::Search("the search engine stopped".to_owned()))?;
                let index = access.engine.index.clone();
                let search = search.clone();
                self.compute(move || index.matches(&search, None, None))
                    .await?
                    .map(Arc::new)
                    .map_err(|error| StoreError::Search(error.to_string()))
            })
            .await?;
        Ok(Some(matches.clone()))
    }

    /// One page of a searched list from the index, with its count when `count` is set; `None`
    /// when this store has no index.
    pub async fn searched_page(
        &self,
        criteria: &Criteria,
        scope: Scope,
        order: ListOrder,
        page: &PageRequest,
        tags: TagSelection,
        count: bool,
    ) -> Result<Option<SearchedPage>, StoreError> {
        let Some(search) = criteria.search.as_deref() else {
            return Ok(None);
        };
        let Some(matches) = self.matches(search).await? else {
            return Ok(None);
        };
        let filter = filter_of(criteria, scope);
        let spec = page_spec(order, page)?;
        let (hits, total) = {
            let matches = matches.clone();
            self.compute_over(matches.len(), move || matches.page(&filter, &spec, count))
                .await?
        };
        let rows = self.rows_of(&hits, order, tags).await?;
        let highlighting = search.highlighting(matches.resolved().positive_stems());
        Ok(Some(SearchedPage {
            rows,
            total,
            corrections: matches.corrections().to_vec(),
            highlighting,
        }))
    }

    /// The catalogue, if this request or an earlier one read it and the archive has not
    /// changed since: without a statement.
    pub(crate) fn catalogue_at_hand(&self) -> Option<Catalogue> {
        let access = self.search.as_ref()?;
        if let Some(catalogue) = access.catalogue.get() {
            return Some(catalogue.clone());
        }
        let shared = &access.engine.catalogue;
        shared.current().and_then(|at| shared.get(at))
    }

    /// The catalogue: read once per request, and kept across requests while the archive does
    /// not change.
    pub(crate) async fn catalogue(&self) -> Result<Catalogue, StoreError> {
        let Some(access) = &self.search else {
            return futures::try_join!(self.programmes(), self.offices());
        };
        access
            .catalogue
            .get_or_try_init(|| async {
                let shared = &access.engine.catalogue;
                let at = shared.current();
                if let Some(catalogue) = at.and_then(|at| shared.get(at)) {
                    return Ok(catalogue);
                }
                let catalogue = futures::try_join!(self.programmes(), self.offices())?;
                if let Some(at) = at {
                    shared.keep(at, &catalogue);
                }
                Ok(catalogue)
            })
            .await
            .cloned()
    }

    /// The releases of `hits`, in their order, with the tags the index holds for them (named
    /// from the catalogue): one statement, for the releases' own rows. A release removed since
    /// the index last heard of it is left out.
    async fn rows_of(
        &self,
        hits: &[Hit],
        order: ListOrder,
        tags: TagSelection,
    ) -> Result<Vec<PageRow>, StoreError> {
        let ids: Vec<Uuid> = hits.iter().map(|hit| hit.id).collect();
        let untagged = TagSelection::default();
        let (mut found, catalogue) = if tags == untagged {
            (
                self.releases_with_tag_selection(&ids, untagged).await?,
                None,
            )
        } else {
            let (found, catalogue) = futures::try_join!(
                self.releases_with_tag_selection(&ids, untagged),
                self.catalogue()
            )?;
            (found, Some(catalogue))
        };
        Ok(hits
            .iter()
            .filter_map(|hit| {
                let (release, _) = found.remove(&hit.id)?;
                let tags = EmbeddedTags {
                    programmes: catalogue
                        .as_ref()
                        .filter(|_| tags.programmes)
                        .map(|(programmes, _)| named(programmes, &hit.programmes, |p| p.id)),
                    offices: catalogue
                        .as_ref()
                        .filter(|_| tags.offices)
                        .map(|(_, offices)| named(offices, &hit.offices, |o| o.id)),
                };
                Some(PageRow {
                    release,
                    rank: (order == ListOrder::Relevance).then_some(f64::from(hit.score)),
                    tags,
                })
            })
            .collect())
    }

    /// Facets of a searched filter from the index: releases per day under `days`, per
    /// programme under `programmes` and per office under `offices` (the faceting rule leaves
    /// each dimension's own criterion out), in one pass over the matches. `None` when this
    /// store has no index or the criteria have no search.
    pub async fn searched_facets(
        &self,
        days: &Criteria,
        programmes: &Criteria,
        offices: &Criteria,
    ) -> Result<Option<SearchedFacets>, StoreError> {
        let Some(search) = days.search.as_deref() else {
            return Ok(None);
        };
        let Some(matches) = self.matches(search).await? else {
            return Ok(None);
        };
        let filters = [
            filter_of(days, Scope::Archive),
            filter_of(programmes, Scope::Archive),
            filter_of(offices, Scope::Archive),
        ];
        let facets: Facets = self
            .compute_over(matches.len(), move || {
                let [days, programmes, offices] = &filters;
                matches.facets(days, programmes, offices)
            })
            .await?;
        let (all_programmes, all_offices) = self.catalogue().await?;
        Ok(Some(SearchedFacets {
            days: facets.days,
            programmes: with_models(facets.programmes, all_programmes, |p| {
                (p.id, p.name.clone(), p.slug.clone())
            }),
            offices: with_models(facets.offices, all_offices, |o| {
                (o.id, o.name.clone(), o.slug.clone())
            }),
        }))
    }

    /// Completions of the word `text` ends with under `criteria`, from the index; `None` when
    /// this store has no index.
    pub async fn search_suggestions(
        &self,
        text: &str,
        criteria: &Criteria,
        first: usize,
    ) -> Result<Option<Vec<WordSuggestion>>, StoreError> {
        let (Some(access), Some(search)) = (&self.search, criteria.search.clone()) else {
            return Ok(None);
        };
        let index = access.engine.index.clone();
        let filter = filter_of(criteria, Scope::Archive);
        let text = text.to_owned();
        self.compute(move || index.suggest(&text, &search, &filter, first))
            .await?
            .map(Some)
            .map_err(|error| StoreError::Search(error.to_string()))
    }

    /// Runs a pass over `matches` matches: where it is, when it takes a few microseconds, and
    /// otherwise as [`Store::compute`] does. Handing small work to another thread would cost
    /// more in waking threads than the work itself.
    async fn compute_over<T: Send + 'static>(
        &self,
        matches: usize,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, StoreError> {
        if matches <= INLINE_MATCHES {
            return Ok(work());
        }
        self.compute(work).await
    }

    /// Runs CPU-bound search work on a blocking thread, at most as many at once as the engine
    /// allows: the threads stay few, and so does the memory their allocations keep.
    async fn compute<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, StoreError> {
        let Some(access) = &self.search else {
            return Err(StoreError::Search(
                "this store has no search index".to_owned(),
            ));
        };
        let _permit = access
            .engine
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Search("the search engine stopped".to_owned()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|error| StoreError::Search(error.to_string()))
    }
}

/// The catalogue rows whose ids are in `ids`, in the catalogue's order (by name).
fn named<M: Clone>(all: &[M], ids: &[i32], id_of: impl Fn(&M) -> i32) -> Vec<M> {
    all.iter()
        .filter(|model| ids.contains(&id_of(model)))
        .cloned()
        .collect()
}

/// Counts joined to their catalogue rows, largest first, then by name and slug (the order of
/// the SQL facets).
fn with_models<M>(
    counts: Vec<(i32, i64)>,
    models: Vec<M>,
    key: impl Fn(&M) -> (i32, String, String),
) -> Vec<(M, i64)> {
    let counts: HashMap<i32, i64> = counts.into_iter().collect();
    let mut joined: Vec<(M, i64)> = models
        .into_iter()
        .filter_map(|model| {
            let count = *counts.get(&key(&model).0)?;
            Some((model, count))
        })
        .collect();
    joined.sort_by(|(a, a_count), (b, b_count)| {
        let (_, a_name, a_slug) = key(a);
        let (_, b_name, b_slug) = key(b);
        b_count
            .cmp(a_count)
            .then(a_name.cmp(&b_name))
            .then(a_slug.cmp(&b_slug))
    });
    joined
}

fn filter_of(criteria: &Criteria, scope: Scope) -> Filter {
    Filter {
        from: criteria.from,
        to: criteria.to,
        programmes: criteria.programme_ids.clone(),
        offices: criteria.office_ids.clone(),
        scope: match scope {
            Scope::Archive => None,
            Scope::Tag(kind, id) => Some((kind, id)),
        },
    }
}

fn page_spec(order: ListOrder, page: &PageRequest) -> Result<PageSpec, StoreError> {
    let order = match order {
        ListOrder::NewestFirst => Order::NewestFirst,
        ListOrder::OldestFirst => Order::OldestFirst,
        ListOrder::Relevance => Order::Relevance,
    };
    let key =
        |position: Option<Position>, argument: &'static str| -> Result<Option<Key>, StoreError> {
            Ok(match (position, order) {
                (None, _) => None,
                (Some(Position::Ranked { rank, at }), Order::Relevance) => Some(Key {
                    // A rank is a score the index gave, so it converts back exactly.
                    score: rank as f32,
                    published_on: at.published_on,
                    id: at.id,
                }),
                (
                    Some(Position::Dated(Cursor { published_on, id })),
                    Order::NewestFirst | Order::OldestFirst,
                ) => Some(Key {
                    score: 0.0,
                    published_on,
                    id,
                }),
                _ => {
                    return Err(StoreError::Page(
                        crate::store::page::PageError::CursorFromOtherOrder(argument),
                    ));
                }
            })
        };
    Ok(PageSpec {
        order,
        size: usize::try_from(page.size).unwrap_or(usize::MAX),
        after: key(page.after, "after")?,
        before: key(page.before, "before")?,
        backward: page.direction == Direction::Backward,
    })
}
