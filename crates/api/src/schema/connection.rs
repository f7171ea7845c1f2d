//! Relay-style pages of releases. Cursors are keyset positions (`published_on`, `id`), so a page
//! is one index range scan wherever it starts, and pages stay consistent while releases arrive.
//! Under `RELEVANCE` the position starts with the search rank: (rank, `published_on`, `id`).
//! `totalCount` is counted only when the query selects it.

use std::sync::Arc;

use async_graphql::{Context, Enum, Object, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult, Order,
    QueryFilter, QueryOrder, QueryResult, QuerySelect, QueryTrait, Select,
};
use uuid::Uuid;

use model::entity::release;

use crate::error::ApiError;
use crate::schema::database;
use crate::schema::embedded_tags::{self, EmbeddedTags, TagSelection};
use crate::schema::filter::{ReleaseFilter, ReleaseSelection, Scope};
use crate::schema::release::Release;
use crate::schema::search::SearchQuery;

/// Page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE_SIZE: i32 = 20;
/// Largest page a client may ask for; asking for more is an error, never a silent cap.
pub const MAX_PAGE_SIZE: i32 = 100;

/// The order in which releases are listed.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReleaseOrder {
    /// Most recent first. Releases published on the same day always come in the same order.
    #[default]
    NewestFirst,
    /// Oldest first: exactly the reverse of `NEWEST_FIRST`.
    OldestFirst,
    /// Best match first (only with `ReleaseFilter.search`): title matches above summary-only
    /// ones; equal matches newest first, then in a fixed order.
    Relevance,
}

/// A position in the ordered list of releases: the date and id of the release there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub published_on: NaiveDate,
    pub id: Uuid,
}

impl Cursor {
    pub fn of(release: &release::Model) -> Cursor {
        Cursor {
            published_on: release.published_on,
            id: release.id,
        }
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}", self.published_on, self.id))
    }

    /// Reads a date-ordered cursor given as argument `argument` (named in the error).
    pub fn decode(text: &str, argument: &'static str) -> Result<Cursor, ApiError> {
        match Position::decode(text, argument)? {
            Position::Dated(cursor) => Ok(cursor),
            Position::Ranked { .. } => Err(ApiError::CursorFromOtherOrder { argument }),
        }
    }

    fn parse(plain: &str) -> Option<Cursor> {
        let (date, id) = plain.split_once('|')?;
        Some(Cursor {
            published_on: NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?,
            id: Uuid::try_parse(id).ok()?,
        })
    }
}

/// A position in a list: by date (`NEWEST_FIRST`, `OLDEST_FIRST`), or by search rank and then
/// date (`RELEVANCE`). The rank travels as its exact bits, so it compares equal to itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Position {
    Dated(Cursor),
    Ranked { rank: f64, at: Cursor },
}

/// Marks a ranked cursor; a date cursor starts with a year, never with this.
const RANKED_CURSOR: &str = "r|";

impl Position {
    pub fn encode(&self) -> String {
        match self {
            Position::Dated(cursor) => cursor.encode(),
            Position::Ranked { rank, at } => URL_SAFE_NO_PAD.encode(format!(
                "{RANKED_CURSOR}{:016x}|{}|{}",
                rank.to_bits(),
                at.published_on,
                at.id
            )),
        }
    }

    /// Reads a cursor of either kind given as argument `argument` (named in the error).
    pub fn decode(text: &str, argument: &'static str) -> Result<Position, ApiError> {
        let malformed = || ApiError::MalformedCursor { argument };
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| malformed())?;
        let plain = String::from_utf8(bytes).map_err(|_| malformed())?;
        match plain.strip_prefix(RANKED_CURSOR) {
            None => Cursor::parse(&plain).map(Position::Dated),
            Some(ranked) => ranked.split_once('|').and_then(|(bits, at)| {
                let rank = f64::from_bits(u64::from_str_radix(bits, 16).ok()?);
                Some(Position::Ranked {
                    rank: rank.is_finite().then_some(rank)?,
                    at: Cursor::parse(at)?,
                })
            }),
        }
        .ok_or_else(malformed)
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

/// Which end of the slice between `after` and `before` a page is taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// The first `size` releases after `after` (`first`, or no size given).
    Forward,
    /// The last `size` releases before `before` (`last`).
    Backward,
}

/// Validated pagination arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct PageRequest {
    direction: Direction,
    size: u64,
    after: Option<Position>,
    before: Option<Position>,
}

impl PageArgs {
    pub fn validate(self) -> Result<PageRequest, ApiError> {
        let (direction, size) = match (self.first, self.last) {
            (Some(_), Some(_)) => return Err(ApiError::FirstAndLast),
            (Some(first), None) => (Direction::Forward, page_size("first", first)?),
            (None, Some(last)) => (Direction::Backward, page_size("last", last)?),
            (None, None) => (Direction::Forward, page_size("first", DEFAULT_PAGE_SIZE)?),
        };
        Ok(PageRequest {
            direction,
            size,
            after: self
                .after
                .map(|text| Position::decode(&text, "after"))
                .transpose()?,
            before: self
                .before
                .map(|text| Position::decode(&text, "before"))
                .transpose()?,
        })
    }
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

/// Resolves a `releases` field: arguments are checked before any query runs, the total is
/// counted only if the client selected `totalCount` under this field, and the programmes and
/// offices of the page are loaded in one query each if selected. A search with nothing
/// searchable in it gives an empty page without querying.
pub async fn resolve_releases(
    ctx: &Context<'_>,
    scope: Scope,
    filter: Option<ReleaseFilter>,
    order: Option<ReleaseOrder>,
    page: PageArgs,
) -> Result<ReleaseConnection, ApiError> {
    let page = page.validate()?;
    let filter = filter.unwrap_or_default();
    let order = order.unwrap_or_default();
    let search = filter.search_query()?.map(Arc::new);
    if order == ReleaseOrder::Relevance && search.is_none() {
        return Err(ApiError::RelevanceWithoutSearch);
    }
    page.check_cursors(order)?;
    let db = database(ctx)?;
    let selection = filter.to_selection(db, scope).await?;
    let count_total = ctx.look_ahead().field("totalCount").exists();
    if search.as_deref().is_some_and(SearchQuery::is_empty) {
        return Ok(ReleaseConnection::assemble(
            Vec::new(),
            search,
            &page,
            count_total.then_some(0),
        ));
    }
    let tags = TagSelection::of_field(ctx, &[&["nodes"], &["edges", "node"]]);
    let mut connection = fetch_page(db, selection, order, search, page, count_total, tags).await?;
    let embedded = connection
        .rows
        .iter_mut()
        .map(|row| (row.release.id, std::mem::take(&mut row.tags)));
    embedded_tags::prime(ctx, embedded.collect::<Vec<_>>()).await?;
    Ok(connection)
}

/// One page of the releases of `selection` (which includes the search condition, if any), in
/// `order`, plus their total when `count_total`. The page is one `SELECT … LIMIT size + 1`
/// (the extra row tells whether more follow) that also carries the selected `tags` of each
/// release; the count, when wanted, runs at the same time. `RELEVANCE` needs `search`: its
/// rank is selected, filtered on and ordered by.
async fn fetch_page(
    db: &DatabaseConnection,
    selection: ReleaseSelection,
    order: ReleaseOrder,
    search: Option<Arc<SearchQuery>>,
    page: PageRequest,
    count_total: bool,
    tags: TagSelection,
) -> Result<ReleaseConnection, ApiError> {
    let backend = db.get_database_backend();
    let sort = match (order, search.as_deref()) {
        (ReleaseOrder::NewestFirst, _) => Sort::Date { ascending: false },
        (ReleaseOrder::OldestFirst, _) => Sort::Date { ascending: true },
        (ReleaseOrder::Relevance, Some(search)) => Sort::Relevance(search.rank(backend)?),
        (ReleaseOrder::Relevance, None) => return Err(ApiError::RelevanceWithoutSearch),
    };
    let ranked = matches!(sort, Sort::Relevance(_));
    let query = tags.add_columns(page_query(&selection, &sort, &page)?, backend);
    let rows = async {
        db.query_all_raw(query.build(backend))
            .await?
            .iter()
            .map(|row| PageRow::read(row, ranked, tags))
            .collect::<Result<Vec<_>, DbErr>>()
    };
    let total = async {
        if count_total {
            selection.count(db).await.map(Some)
        } else {
            Ok(None)
        }
    };
    let (rows, total_count) = futures::try_join!(rows, total)?;
    Ok(ReleaseConnection::assemble(
        rows,
        search,
        &page,
        total_count,
    ))
}

/// How a page is ordered, with what `page_query` needs for it.
#[derive(Debug, Clone)]
enum Sort {
    /// By (published_on, id).
    Date { ascending: bool },
    /// By (rank, published_on, id), descending; the rank expression of the search.
    Relevance(Expr),
}

/// Name of the selected rank column.
const RANK_COLUMN: &str = "search_rank";

/// A release of a page, its search rank when ordered by relevance, and its tags when selected
/// (until they are handed to the loader).
#[derive(Debug, Clone)]
struct PageRow {
    release: release::Model,
    rank: Option<f64>,
    tags: EmbeddedTags,
}

impl PageRow {
    fn read(row: &QueryResult, ranked: bool, tags: TagSelection) -> Result<PageRow, DbErr> {
        Ok(PageRow {
            release: release::Model::from_query_result(row, "")?,
            rank: if ranked {
                Some(row.try_get("", RANK_COLUMN)?)
            } else {
                None
            },
            tags: EmbeddedTags::read(row, tags),
        })
    }

    fn position(&self) -> Position {
        let at = Cursor::of(&self.release);
        match self.rank {
            None => Position::Dated(at),
            Some(rank) => Position::Ranked { rank, at },
        }
    }
}

impl PageRequest {
    /// Rejects cursors taken from a list in another kind of order.
    fn check_cursors(&self, order: ReleaseOrder) -> Result<(), ApiError> {
        let ranked = order == ReleaseOrder::Relevance;
        for (argument, position) in [("after", self.after), ("before", self.before)] {
            if let Some(position) = position
                && matches!(position, Position::Ranked { .. }) != ranked
            {
                return Err(ApiError::CursorFromOtherOrder { argument });
            }
        }
        Ok(())
    }
}

/// The SELECT of one page: the selection, the cursors, the order to scan in, one row extra.
/// A list anchored on a tag is ordered and bounded by the tag rows' copies of the date and id,
/// so the page is a range of the tag's index; otherwise by `release`'s own.
fn page_query(
    selection: &ReleaseSelection,
    sort: &Sort,
    page: &PageRequest,
) -> Result<Select<release::Entity>, ApiError> {
    // Whether the list's own order is ascending (relevance: descending rank, date and id).
    let ascending = matches!(sort, Sort::Date { ascending: true });
    let keys = match selection.anchor {
        Some(anchor) => (anchor.kind.date_column(), anchor.kind.release_column()),
        None => (
            release::Column::PublishedOn.into_expr(),
            release::Column::Id.into_expr(),
        ),
    };
    let mut window = Condition::all();
    for (argument, position, later) in [
        ("after", page.after, ascending),
        ("before", page.before, !ascending),
    ] {
        let Some(position) = position else {
            continue;
        };
        window = window.add(match (sort, position) {
            (Sort::Date { .. }, Position::Dated(cursor)) => beyond(&keys, cursor, later),
            (Sort::Relevance(rank), Position::Ranked { rank: value, at }) => {
                beyond_ranked(&keys, rank, value, at, later)
            }
            _ => return Err(ApiError::CursorFromOtherOrder { argument }),
        });
    }
    // A backward page is read from its far end, then flipped into the requested order.
    let scan_ascending = match page.direction {
        Direction::Forward => ascending,
        Direction::Backward => !ascending,
    };
    let sort_order = if scan_ascending {
        Order::Asc
    } else {
        Order::Desc
    };
    let mut query = selection.select().filter(window);
    if let Sort::Relevance(rank) = sort {
        query = query
            .expr_as(rank.clone(), RANK_COLUMN)
            .order_by(rank.clone(), sort_order.clone());
    }
    let (date, id) = keys;
    Ok(query
        .order_by(date, sort_order.clone())
        .order_by(id, sort_order)
        .limit(page.size + 1))
}

/// Releases strictly past `cursor`: later in (date, id) when `later`, earlier otherwise; `keys`
/// are the date and id columns the list is ordered by.
/// Spelled out rather than as a row-value comparison, so both backends read it the same way.
/// The OR alone is no index bound; the redundant `date >=`/`<=` is one, so a page deep in the
/// archive starts at its cursor in the (published_on, id) index instead of scanning up to it.
fn beyond((date, id): &(Expr, Expr), cursor: Cursor, later: bool) -> Condition {
    let (date, id) = (date.clone(), id.clone());
    let (date_bound, date_past, id_past) = if later {
        (
            date.clone().gte(cursor.published_on),
            date.clone().gt(cursor.published_on),
            id.gt(cursor.id),
        )
    } else {
        (
            date.clone().lte(cursor.published_on),
            date.clone().lt(cursor.published_on),
            id.lt(cursor.id),
        )
    };
    Condition::all().add(date_bound).add(
        Condition::any().add(date_past).add(
            Condition::all()
                .add(date.eq(cursor.published_on))
                .add(id_past),
        ),
    )
}

/// Releases strictly past (`value`, `cursor`) in (rank, date, id): greater when `later`,
/// smaller otherwise. The rank is compared with the very expression that produced `value`.
fn beyond_ranked(
    keys: &(Expr, Expr),
    rank: &Expr,
    value: f64,
    cursor: Cursor,
    later: bool,
) -> Condition {
    let rank_past = if later {
        rank.clone().gt(value)
    } else {
        rank.clone().lt(value)
    };
    Condition::any().add(rank_past).add(
        Condition::all()
            .add(rank.clone().eq(value))
            .add(beyond(keys, cursor, later)),
    )
}

#[derive(Debug)]
pub struct ReleaseConnection {
    rows: Vec<PageRow>,
    /// The search the releases were found by, for their `highlight`.
    search: Option<Arc<SearchQuery>>,
    page_info: PageInfo,
    total_count: Option<u64>,
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
            start_cursor: rows.first().map(|row| row.position().encode()),
            end_cursor: rows.last().map(|row| row.position().encode()),
        };
        ReleaseConnection {
            rows,
            search,
            page_info,
            total_count,
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
                cursor: row.position().encode(),
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
    has_next_page: bool,
    /// Whether releases precede this page. When paging forward (`first`), true if `after` was given.
    has_previous_page: bool,
    /// Cursor of the first release of the page; null when the page is empty.
    start_cursor: Option<String>,
    /// Cursor of the last release of the page; null when the page is empty. Pass it as `after` for the next page.
    end_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The selection of the releases meeting `condition`, not anchored on a tag.
    pub(super) fn unanchored(condition: Condition) -> ReleaseSelection {
        ReleaseSelection {
            anchor: None,
            on_anchor: Condition::all(),
            on_release: condition,
        }
    }

    #[test]
    fn cursors_round_trip_and_reject_anything_else() {
        let cursor = Cursor {
            published_on: NaiveDate::from_ymd_opt(2021, 6, 24).unwrap_or_default(),
            id: Uuid::nil(),
        };
        assert_eq!(Cursor::decode(&cursor.encode(), "after").ok(), Some(cursor));
        let encode = |plain: &str| URL_SAFE_NO_PAD.encode(plain);
        for bad in [
            "".to_owned(),
            "%%%".to_owned(),
            encode("2021-06-24"),
            encode("2021-13-01|00000000-0000-0000-0000-000000000000"),
            encode("2021-06-24|not-a-uuid"),
        ] {
            assert!(Cursor::decode(&bad, "after").is_err(), "{bad}");
            assert!(Position::decode(&bad, "after").is_err(), "{bad}");
        }
        let ranked = Position::Ranked {
            rank: 0.1_f64 + 0.2_f64,
            at: cursor,
        };
        assert_eq!(
            Position::decode(&ranked.encode(), "before").ok(),
            Some(ranked)
        );
        assert!(matches!(
            Cursor::decode(&ranked.encode(), "after"),
            Err(ApiError::CursorFromOtherOrder { argument: "after" })
        ));
        for bad in [
            encode("r|zz|2021-06-24|00000000-0000-0000-0000-000000000000"),
            encode("r|7ff0000000000000|2021-06-24|00000000-0000-0000-0000-000000000000"),
            encode("r|3fd3333333333334|2021-06-24"),
        ] {
            assert!(Position::decode(&bad, "after").is_err(), "{bad}");
        }
    }

    #[test]
    fn cursors_must_come_from_the_same_kind_of_order() {
        let at = Cursor {
            published_on: NaiveDate::from_ymd_opt(2021, 6, 24).unwrap_or_default(),
            id: Uuid::nil(),
        };
        let request = |after: Position| {
            PageArgs {
                after: Some(after.encode()),
                ..PageArgs::default()
            }
            .validate()
        };
        let Ok(dated) = request(Position::Dated(at)) else {
            panic!("a valid cursor");
        };
        let Ok(ranked) = request(Position::Ranked { rank: 0.5, at }) else {
            panic!("a valid cursor");
        };
        assert!(dated.check_cursors(ReleaseOrder::NewestFirst).is_ok());
        assert!(dated.check_cursors(ReleaseOrder::Relevance).is_err());
        assert!(ranked.check_cursors(ReleaseOrder::Relevance).is_ok());
        assert!(ranked.check_cursors(ReleaseOrder::OldestFirst).is_err());
    }

    #[test]
    fn pages_start_at_their_cursor_in_the_index() {
        use sea_orm::{DbBackend, QueryTrait};
        let cursor = Cursor {
            published_on: NaiveDate::from_ymd_opt(2021, 6, 24).unwrap_or_default(),
            id: Uuid::nil(),
        };
        let page = PageArgs {
            first: Some(7),
            after: Some(cursor.encode()),
            ..PageArgs::default()
        }
        .validate();
        let Ok(page) = page else {
            panic!("valid arguments: {page:?}");
        };
        let Ok(query) = page_query(
            &unanchored(Condition::all()),
            &Sort::Date { ascending: false },
            &page,
        ) else {
            panic!("a date cursor fits a date order");
        };
        let sql = query.build(DbBackend::Postgres).to_string();
        // The plain bound is what lets PostgreSQL seek in the index instead of filtering.
        assert!(
            sql.contains(r#""release"."published_on" <= '2021-06-24' AND"#),
            "{sql}"
        );
        assert!(
            sql.ends_with(r#"ORDER BY "release"."published_on" DESC, "release"."id" DESC LIMIT 8"#),
            "{sql}"
        );
    }

    /// A list that must carry one programme is read from that programme's rows, in their order,
    /// from the cursor on; a list of two programmes, or a search, filters `release` instead.
    #[test]
    fn lists_of_one_tag_walk_the_tags_index() {
        use sea_orm::{DbBackend, QueryTrait};

        use crate::schema::filter::ResolvedFilter;
        let day = |m, d| NaiveDate::from_ymd_opt(2021, m, d);
        let cursor = Cursor {
            published_on: day(6, 24).unwrap_or_default(),
            id: Uuid::nil(),
        };
        let Ok(page) = (PageArgs {
            first: Some(7),
            after: Some(cursor.encode()),
            ..PageArgs::default()
        })
        .validate() else {
            panic!("valid arguments");
        };
        let sql_of = |filter: ResolvedFilter, scope: Scope| {
            let selection = filter.selection(DbBackend::Postgres, scope);
            let Ok(selection) = selection else {
                panic!("a valid filter: {selection:?}");
            };
            let query = page_query(&selection, &Sort::Date { ascending: false }, &page);
            let Ok(query) = query else {
                panic!("a date cursor fits a date order");
            };
            query.build(DbBackend::Postgres).to_string()
        };
        let year = ResolvedFilter {
            from: day(1, 1),
            to: day(12, 31),
            programme_ids: Some(vec![3]),
            ..ResolvedFilter::default()
        };
        let sql = sql_of(year.clone(), Scope::Archive);
        for part in [
            r#"INNER JOIN "release_programme" ON "release"."id" = "release_programme"."release_id""#,
            r#""release_programme"."programme_id" = 3 AND ("release_programme"."published_on" >= '2021-01-01' AND "release_programme"."published_on" <= '2021-12-31')"#,
            r#""release_programme"."published_on" <= '2021-06-24' AND"#,
        ] {
            assert!(sql.contains(part), "{part} in {sql}");
        }
        assert!(!sql.contains("IN (SELECT"), "{sql}");
        assert!(
            sql.ends_with(r#"ORDER BY "release_programme"."published_on" DESC, "release_programme"."release_id" DESC LIMIT 8"#),
            "{sql}"
        );
        // An office's page, further narrowed to a programme: the office's rows lead.
        let office_page = sql_of(year.clone(), Scope::Office(5));
        assert!(
            office_page.contains(r#"INNER JOIN "release_office""#),
            "{office_page}"
        );
        assert!(
            office_page.contains(r#""release"."id" IN (SELECT "release_programme"."release_id""#),
            "{office_page}"
        );
        let two = ResolvedFilter {
            programme_ids: Some(vec![3, 4]),
            ..year.clone()
        };
        let searched = ResolvedFilter {
            search: SearchQuery::parse("herders").ok(),
            ..year
        };
        for sql in [
            sql_of(two, Scope::Archive),
            sql_of(searched, Scope::Archive),
        ] {
            assert!(!sql.contains("JOIN"), "{sql}");
            assert!(sql.contains(r#""release"."id" IN (SELECT"#), "{sql}");
            assert!(sql.ends_with(r#""release"."id" DESC LIMIT 8"#), "{sql}");
        }
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
        assert_eq!(
            args(None, None).validate().ok().map(|page| page.size),
            Some(20)
        );
        assert_eq!(
            args(Some(0), None).validate().ok().map(|page| page.size),
            Some(0)
        );
    }
}

#[cfg(test)]
mod search_tests {
    use sea_orm::{DbBackend, QueryTrait};

    use super::*;

    /// Prints the SQL of a ranked page after a cursor on both backends (`--nocapture`) and
    /// checks its shape: one rank expression in SELECT, WHERE and ORDER BY.
    #[test]
    fn ranked_pages_compare_the_selected_rank() {
        let at = Cursor {
            published_on: NaiveDate::from_ymd_opt(2021, 6, 24).unwrap_or_default(),
            id: Uuid::nil(),
        };
        let Ok(page) = (PageArgs {
            first: Some(2),
            after: Some(Position::Ranked { rank: 0.5, at }.encode()),
            ..PageArgs::default()
        })
        .validate() else {
            panic!("valid arguments");
        };
        let Ok(search) = SearchQuery::parse("social security -china or apprentice") else {
            panic!("a valid search");
        };
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            let (Ok(condition), Ok(rank)) = (search.condition(backend), search.rank(backend))
            else {
                panic!("both backends search");
            };
            let Ok(query) = page_query(
                &tests::unanchored(Condition::all().add(condition)),
                &Sort::Relevance(rank),
                &page,
            ) else {
                panic!("a ranked cursor fits RELEVANCE");
            };
            let sql = query.build(backend).to_string();
            println!("{backend:?}: {sql}\n");
            assert!(sql.contains("AS \"search_rank\""), "{sql}");
            assert!(sql.ends_with("\"release\".\"id\" DESC LIMIT 3"), "{sql}");
            if backend == DbBackend::Postgres {
                // The bare column against a tsquery: what the GIN index serves.
                let condition = r#"WHERE ("release"."search_vector" @@ (websearch_to_tsquery('english', '"social" "security" -"china" or "apprentice"') || to_tsquery('simple', "#;
                assert!(sql.contains(condition), "{sql}");
            }
        }
    }
}
