//! Relay-style pages of releases (`releases` fields): arguments checked before any query
//! runs, cursors opaque to clients (see `cursor`), the page read by the store in one statement
//! with the tags selected of its releases, `totalCount` counted only when selected.

use std::sync::Arc;

use async_graphql::{Context, Enum, Object, SimpleObject};

use crate::error::ApiError;
use crate::schema::context::store;
use crate::schema::cursor;
use crate::schema::filter::ReleaseFilter;
use crate::schema::loaders::prime;
use crate::schema::objects::Release;
use crate::store::Store;
use crate::store::criteria::Scope;
use crate::store::page::{
    DEFAULT_PAGE_SIZE, Direction, ListOrder, MAX_PAGE_SIZE, PageRequest, PageRow, Position,
};
use crate::store::search::SearchQuery;
use crate::store::tags::TagSelection;
use search::Correction;

/// The order in which releases are listed.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReleaseOrder {
    /// Most recent first. Releases published on the same day always come in the same order.
    #[default]
    NewestFirst,
    /// Oldest first: exactly the reverse of `NEWEST_FIRST`.
    OldestFirst,
    /// Best match first (only with `ReleaseFilter.search`): BM25 over title and summary, a match
    /// in the title counting three times one in the summary; equal matches newest first, then
    /// in a fixed order.
    Relevance,
}

impl From<ReleaseOrder> for ListOrder {
    fn from(order: ReleaseOrder) -> ListOrder {
        match order {
            ReleaseOrder::NewestFirst => ListOrder::NewestFirst,
            ReleaseOrder::OldestFirst => ListOrder::OldestFirst,
            ReleaseOrder::Relevance => ListOrder::Relevance,
        }
    }
}

/// The pagination arguments of a `releases` field, as the client gave them.
#[derive(Debug, Default, Clone)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

impl PageArgs {
    /// The page asked for, its cursors decoded.
    pub fn validate(self) -> Result<PageRequest, ApiError> {
        let (direction, size) = match (self.first, self.last) {
            (Some(_), Some(_)) => return Err(ApiError::FirstAndLast),
            (Some(first), None) => (Direction::Forward, page_size("first", first)?),
            (None, Some(last)) => (Direction::Backward, page_size("last", last)?),
            (None, None) => (Direction::Forward, page_size("first", DEFAULT_PAGE_SIZE)?),
        };
        let position = |text: Option<String>, argument: &'static str| {
            text.map(|text| cursor::decode(&text, argument)).transpose()
        };
        Ok(PageRequest {
            direction,
            size,
            after: position(self.after, "after")?,
            before: position(self.before, "before")?,
        })
    }
}

/// Rejects cursors of `page` taken from a list in another kind of order than `order`.
fn check_cursors(page: &PageRequest, order: ReleaseOrder) -> Result<(), ApiError> {
    let ranked = order == ReleaseOrder::Relevance;
    for (argument, position) in [("after", page.after), ("before", page.before)] {
        if let Some(position) = position
            && matches!(position, Position::Ranked { .. }) != ranked
        {
            return Err(ApiError::CursorFromOtherOrder { argument });
        }
    }
    Ok(())
}

/// The cost of a `releases` field under the schema's complexity limit: what is selected for
/// each release, times the releases a page can hold. Out-of-range sizes are clamped here and
/// rejected by the resolver with a proper message.
pub fn page_complexity(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let size = first
        .or(last)
        .unwrap_or(DEFAULT_PAGE_SIZE)
        .clamp(1, MAX_PAGE_SIZE);
    usize::try_from(size)
        .unwrap_or(1)
        .saturating_mul(child_complexity)
        .saturating_add(1)
}

fn page_size(argument: &'static str, value: i32) -> Result<u64, ApiError> {
    if (0..=MAX_PAGE_SIZE).contains(&value) {
        Ok(u64::from(value.unsigned_abs()))
    } else {
        Err(ApiError::PageSizeOutOfRange { argument, value })
    }
}

/// Resolves a `releases` field: the page read by `read_releases` with the tags and the total
/// the selection asks for, its releases' tags handed to the request's loader.
pub async fn resolve_releases(
    ctx: &Context<'_>,
    scope: Scope,
    filter: Option<ReleaseFilter>,
    order: Option<ReleaseOrder>,
    page: PageArgs,
) -> Result<ReleaseConnection, ApiError> {
    let count_total = ctx.look_ahead().field("totalCount").exists();
    let tags = tag_selection(ctx, &[&["nodes"], &["edges", "node"]]);
    let mut connection = read_releases(
        store(ctx)?,
        scope,
        filter.unwrap_or_default(),
        order.unwrap_or_default(),
        page,
        count_total,
        tags,
    )
    .await?;
    let embedded = connection
        .rows
        .iter_mut()
        .map(|row| (row.release.id, std::mem::take(&mut row.tags)));
    prime(ctx, embedded.collect::<Vec<_>>()).await?;
    Ok(connection)
}

/// A page of releases: arguments are checked before any query runs, the search is parsed once
/// (for the condition, the rank and the highlights), the total is counted only if
/// `count_total`, and the programmes and offices of `tags` come with the page's rows. A search
/// with nothing searchable in it gives an empty page without querying.
pub async fn read_releases(
    store: &Store,
    scope: Scope,
    filter: ReleaseFilter,
    order: ReleaseOrder,
    page: PageArgs,
    count_total: bool,
    tags: TagSelection,
) -> Result<ReleaseConnection, ApiError> {
    let page = page.validate()?;
    if order == ReleaseOrder::Relevance && filter.search.is_none() {
        return Err(ApiError::RelevanceWithoutSearch);
    }
    check_cursors(&page, order)?;
    let criteria = filter.resolve(store).await?;
    let search = criteria.search.clone();
    if search.as_deref().is_some_and(SearchQuery::is_empty) {
        return Ok(ReleaseConnection::assemble(
            Vec::new(),
            search,
            &page,
            count_total.then_some(0),
        ));
    }
    if let Some(searched) = store
        .searched_page(&criteria, scope, order.into(), &page, tags, count_total)
        .await?
    {
        let mut connection = ReleaseConnection::assemble(
            searched.rows,
            Some(Arc::new(searched.highlighting)),
            &page,
            searched.total,
        );
        connection.corrections = searched.corrections;
        return Ok(connection);
    }
    let selection = criteria.selection(store.dialect()?, scope);
    let rows = store.page(&selection, order.into(), search.as_deref(), &page, tags);
    let total = async {
        if !count_total {
            return Ok(None);
        }
        // Over the whole archive, the precomputed counts usually know the total already.
        if scope == Scope::Archive
            && let Some(total) = store.precomputed_total(&criteria).await?
        {
            return Ok(Some(total));
        }
        store.count(&selection).await.map(Some)
    };
    let (rows, total_count) = futures::try_join!(rows, total)?;
    Ok(ReleaseConnection::assemble(
        rows,
        search,
        &page,
        total_count,
    ))
}

/// The tag lists selected under the releases of `ctx`'s field, through `paths` (e.g.
/// `["nodes"]` for a connection, `[]` for a single release).
pub fn tag_selection(ctx: &Context<'_>, paths: &[&[&str]]) -> TagSelection {
    let selected = |field: &str| {
        paths.iter().any(|path| {
            path.iter()
                .fold(ctx.look_ahead(), |at, step| at.field(step))
                .field(field)
                .exists()
        })
    };
    TagSelection {
        programmes: selected("programmes"),
        offices: selected("offices"),
    }
}

#[derive(Debug)]
pub struct ReleaseConnection {
    /// The page's rows in the requested order, each with the tags read with it (until a
    /// resolver hands them to the request's loader).
    pub(crate) rows: Vec<PageRow>,
    /// The search the releases were found by, for their `highlight`.
    pub(crate) search: Option<Arc<SearchQuery>>,
    pub(crate) page_info: PageInfo,
    pub(crate) total_count: Option<u64>,
    /// Misspelt words of the search and what they were matched to instead.
    pub(crate) corrections: Vec<Correction>,
}

impl ReleaseConnection {
    /// The page from the rows read for `page` (scan order, possibly one extra).
    fn assemble(
        mut rows: Vec<PageRow>,
        search: Option<Arc<SearchQuery>>,
        page: &PageRequest,
        total_count: Option<u64>,
    ) -> ReleaseConnection {
        let more_beyond_page = rows.len() as u64 > page.size;
        rows.truncate(usize::try_from(page.size).unwrap_or(usize::MAX));
        // Relay lets a server report the side it did not scan as "is there a cursor there";
        // finding out exactly would cost another query on every page.
        let (has_next_page, has_previous_page) = match page.direction {
            Direction::Forward => (more_beyond_page, page.after.is_some()),
            Direction::Backward => {
                rows.reverse();
                (page.before.is_some(), more_beyond_page)
            }
        };
        let page_info = PageInfo {
            has_next_page,
            has_previous_page,
            start_cursor: rows.first().map(|row| cursor::encode(row.position())),
            end_cursor: rows.last().map(|row| cursor::encode(row.position())),
        };
        ReleaseConnection {
            rows,
            search,
            page_info,
            total_count,
            corrections: Vec::new(),
        }
    }

    fn release(&self, row: &PageRow) -> Release {
        Release::found_by(row.release.clone(), self.search.clone())
    }
}

/// A page of releases, and how to reach the pages around it.
#[Object]
impl ReleaseConnection {
    /// The releases of this page in the requested order, each with its cursor.
    async fn edges(&self) -> Vec<ReleaseEdge> {
        self.rows
            .iter()
            .map(|row| ReleaseEdge {
                cursor: cursor::encode(row.position()),
                node: self.release(row),
            })
            .collect()
    }

    /// The releases of this page in the requested order: `edges` without the cursors.
    async fn nodes(&self) -> Vec<Release> {
        self.rows.iter().map(|row| self.release(row)).collect()
    }

    /// Whether there are more pages, and the cursors to fetch them.
    async fn page_info(&self) -> &PageInfo {
        &self.page_info
    }

    /// How many releases match the filter, over all pages. Only counted when selected.
    async fn total_count(&self) -> Result<u64, ApiError> {
        self.total_count
            .ok_or_else(|| ApiError::Internal("totalCount was selected but not counted".to_owned()))
    }

    /// The words of `ReleaseFilter.search` that occur nowhere in the archive and were matched
    /// to its words within a typo's distance instead (one edit from 5 letters, two from 9),
    /// e.g. `worksohp` → `workshop`: what a frontend shows as "showing results for …". Empty
    /// when every word was found as typed (or the list was not searched).
    async fn search_corrections(&self) -> Vec<SearchCorrection> {
        self.corrections
            .iter()
            .map(|correction| SearchCorrection {
                word: correction.word.clone(),
                replacements: correction.replacements.clone(),
            })
            .collect()
    }
}

/// A misspelt word of a search and the archive's words it was matched to.
#[derive(Debug, Clone, SimpleObject)]
pub struct SearchCorrection {
    /// The word as searched (lower case).
    pub word: String,
    /// The archive's words within a typo's distance of it, alphabetically; the search matched
    /// any of them.
    pub replacements: Vec<String>,
}

/// A release and its position in the list.
#[derive(Debug, SimpleObject)]
pub struct ReleaseEdge {
    /// Opaque position of this release: pass it as `after` or `before` to continue from here.
    cursor: String,
    /// The release.
    node: Release,
}

/// Where a page sits in the whole list of matching releases.
#[derive(Debug, Clone, SimpleObject)]
pub struct PageInfo {
    /// Whether releases follow this page. When paging backward (`last`), true if `before` was given.
    pub(crate) has_next_page: bool,
    /// Whether releases precede this page. When paging forward (`first`), true if `after` was given.
    pub(crate) has_previous_page: bool,
    /// Cursor of the first release of the page; null when the page is empty.
    pub(crate) start_cursor: Option<String>,
    /// Cursor of the last release of the page; null when the page is empty. Pass it as `after` for the next page.
    pub(crate) end_cursor: Option<String>,
}

/// Declares a GraphQL object type's `#[Object]` impl with a `releases` connection field between
/// the fields in its first and second braces: the field's description comes from the doc
/// comment given before `releases`, its list from `scope`. The arguments and their descriptions
/// are written here once for every `releases` field of the schema (the page sizes they state are
/// checked against `DEFAULT_PAGE_SIZE` and `MAX_PAGE_SIZE` by a test of the printed schema).
macro_rules! object_with_releases {
    (
        $(#[$attr:meta])*
        impl $ty:ident {
            $($before:tt)*
        }
        $(#[doc = $doc:literal])+
        releases($this:ident) => $scope:expr;
        {
            $($after:tt)*
        }
    ) => {
        $(#[$attr])*
        impl $ty {
            $($before)*

            $(#[doc = $doc])+
            #[allow(clippy::too_many_arguments)]
            #[graphql(
                complexity = "crate::schema::connection::page_complexity(first, last, child_complexity)"
            )]
            async fn releases(
                &$this,
                ctx: &async_graphql::Context<'_>,
                #[graphql(desc = "Which releases to list; all of them when omitted.")]
                filter: Option<$crate::schema::filter::ReleaseFilter>,
                #[graphql(
                    default_with = "Some(crate::schema::connection::ReleaseOrder::NewestFirst)",
                    desc = "Order of the releases."
                )]
                order_by: Option<$crate::schema::connection::ReleaseOrder>,
                #[graphql(
                    desc = "Page forward: at most this many releases (0 to 100) following `after`. Without `first` or `last`, pages hold 20."
                )]
                first: Option<i32>,
                #[graphql(
                    desc = "Page forward from this cursor (an edge's `cursor` or `pageInfo.endCursor`): only releases after it."
                )]
                after: Option<String>,
                #[graphql(
                    desc = "Page backward: at most this many releases (0 to 100) preceding `before`. Cannot be combined with `first`."
                )]
                last: Option<i32>,
                #[graphql(
                    desc = "Page backward from this cursor (an edge's `cursor` or `pageInfo.startCursor`): only releases before it."
                )]
                before: Option<String>,
            ) -> Result<$crate::schema::connection::ReleaseConnection, $crate::error::ApiError> {
                let page = $crate::schema::connection::PageArgs {
                    first,
                    after,
                    last,
                    before,
                };
                $crate::schema::connection::resolve_releases(ctx, $scope, filter, order_by, page)
                    .await
            }

            $($after)*
        }
    };
}

pub(crate) use object_with_releases;

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use uuid::Uuid;

    use super::*;
    use crate::store::page::Cursor;

    fn at() -> Cursor {
        Cursor {
            published_on: NaiveDate::from_ymd_opt(2021, 6, 24).unwrap(),
            id: Uuid::nil(),
        }
    }

    #[test]
    fn cursors_must_come_from_the_same_kind_of_order() {
        let request = |after: Position, order| {
            let page = PageArgs {
                after: Some(cursor::encode(after)),
                ..PageArgs::default()
            }
            .validate()
            .unwrap();
            check_cursors(&page, order)
        };
        let dated = Position::Dated(at());
        let ranked = Position::Ranked {
            rank: 0.5,
            at: at(),
        };
        assert!(request(dated, ReleaseOrder::NewestFirst).is_ok());
        assert!(matches!(
            request(dated, ReleaseOrder::Relevance),
            Err(ApiError::CursorFromOtherOrder { argument: "after" })
        ));
        assert!(request(ranked, ReleaseOrder::Relevance).is_ok());
        assert!(request(ranked, ReleaseOrder::OldestFirst).is_err());
    }

    /// The descriptions of `first` and `last` state the page sizes as literals (attributes take
    /// no constants): they must say what the resolver enforces.
    #[test]
    fn argument_descriptions_state_the_real_limits() {
        use crate::store::related::{MAX_RELATED, MIN_RELATED};
        let sdl = crate::schema::sdl();
        assert_eq!(
            sdl.matches(&format!("(0 to {MAX_PAGE_SIZE})")).count(),
            6,
            "`first` and `last` of the three `releases` fields"
        );
        assert_eq!(
            sdl.matches(&format!("pages hold {DEFAULT_PAGE_SIZE}."))
                .count(),
            3
        );
        assert!(sdl.contains(&format!(
            "How many related releases to return: {MIN_RELATED} to {MAX_RELATED}."
        )));
    }

    #[test]
    fn page_arguments_are_checked() {
        let args = |first, last| PageArgs {
            first,
            last,
            ..PageArgs::default()
        };
        assert!(matches!(
            args(Some(1), Some(1)).validate(),
            Err(ApiError::FirstAndLast)
        ));
        assert!(args(Some(MAX_PAGE_SIZE + 1), None).validate().is_err());
        assert!(args(None, Some(-1)).validate().is_err());
        assert_eq!(args(None, None).validate().unwrap().size, 20);
        assert_eq!(args(Some(0), None).validate().unwrap().size, 0);
    }
}
