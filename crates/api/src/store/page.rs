//! Keyset pages of releases. A position is `(published_on, id)`, so a page is one index range
//! scan wherever it starts, and pages stay consistent while releases arrive. Ordered by
//! relevance, the position starts with the search rank: `(rank, published_on, id)`.

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, FromQueryResult, Order, QueryFilter,
    QueryOrder, QueryResult, QuerySelect, QueryTrait, Statement,
};
use uuid::Uuid;

use model::entity::release;

use crate::store::criteria::Selection;
use crate::store::tag_table::TagTable;
use crate::store::tags::{EmbeddedTags, TagSelection};
use crate::store::{Dialect, Store, StoreError};
use ::search::SearchQuery;

/// Page size when the client gives none.
pub const DEFAULT_PAGE_SIZE: i32 = 20;
/// Largest page a client may ask for; asking for more is an error, never a silent cap.
pub const MAX_PAGE_SIZE: i32 = 100;

/// Name of the selected rank column.
const RANK_COLUMN: &str = "search_rank";

/// The date and id of a release: its place in a date-ordered list.
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
}

/// A position in a list: by date (newest or oldest first), or by search rank and then date
/// (relevance). The rank is kept exactly as read, so it compares equal to itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Position {
    Dated(Cursor),
    Ranked { rank: f64, at: Cursor },
}

/// The order of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOrder {
    NewestFirst,
    OldestFirst,
    /// Best search match first; needs a search.
    Relevance,
}

/// Which end of the slice between `after` and `before` a page is taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The first `size` releases after `after`.
    Forward,
    /// The last `size` releases before `before`.
    Backward,
}

/// A checked page request: its cursors are of the kind its order uses.
#[derive(Debug, Clone, PartialEq)]
pub struct PageRequest {
    pub direction: Direction,
    pub size: u64,
    pub after: Option<Position>,
    pub before: Option<Position>,
}

/// A cursor of one kind of order given to a list in another (`argument` is `after` or
/// `before`), or a relevance order without a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("the cursor in `{0}` comes from a list in a different order")]
    CursorFromOtherOrder(&'static str),
    #[error("a relevance order needs a search")]
    RelevanceWithoutSearch,
}

/// A release of a page, its search rank when ordered by relevance, and the tags read with it.
#[derive(Debug, Clone)]
pub struct PageRow {
    pub release: release::Model,
    pub rank: Option<f64>,
    pub tags: EmbeddedTags,
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

    /// Where this row stands in its list.
    pub fn position(&self) -> Position {
        let at = Cursor::of(&self.release);
        match self.rank {
            None => Position::Dated(at),
            Some(rank) => Position::Ranked { rank, at },
        }
    }
}

impl Store {
    /// One page of `selection` (which holds the search condition, if any) in `order`, in scan
    /// order, with one row more than asked when more follow, each row with the selected `tags`.
    /// One statement: `SELECT … LIMIT size + 1`. `Relevance` needs `search`: its rank is
    /// selected, filtered on and ordered by.
    pub async fn page(
        &self,
        selection: &Selection,
        order: ListOrder,
        search: Option<&SearchQuery>,
        page: &PageRequest,
        tags: TagSelection,
    ) -> Result<Vec<PageRow>, StoreError> {
        let dialect = self.dialect()?;
        let statement = page_query(dialect, selection, order, search, page, tags)?;
        let ranked = order == ListOrder::Relevance;
        Ok(self
            .db()
            .query_all_raw(statement)
            .await?
            .iter()
            .map(|row| PageRow::read(row, ranked, tags))
            .collect::<Result<Vec<_>, DbErr>>()?)
    }
}

/// The SELECT of one page: the selection, the cursors, the order to scan in, one row extra,
/// and the tag columns. The row limit is written into the SQL, not bound: PostgreSQL plans a
/// prepared statement for an unknown `LIMIT $n` as if it read a tenth of the table, so it would
/// plan the page anew on every execution (a quarter of a millisecond) instead of keeping one
/// plan per page size. A list anchored on a tag is ordered and bounded by the tag rows' copies
/// of the date and id, so the page is a range of the tag's index; otherwise by `release`'s own.
pub fn page_query(
    dialect: Dialect,
    selection: &Selection,
    order: ListOrder,
    search: Option<&SearchQuery>,
    page: &PageRequest,
    tags: TagSelection,
) -> Result<Statement, PageError> {
    let rank = match (order, search) {
        (ListOrder::Relevance, Some(search)) => Some(dialect.rank(search)),
        (ListOrder::Relevance, None) => return Err(PageError::RelevanceWithoutSearch),
        _ => None,
    };
    // Whether the list's own order is ascending (relevance: descending rank, date and id).
    let ascending = order == ListOrder::OldestFirst;
    let keys = match selection.anchor {
        Some(anchor) => {
            let table = TagTable::of(anchor.kind);
            (table.date_col(), table.release_col())
        }
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
        window = window.add(match (&rank, position) {
            (None, Position::Dated(cursor)) => beyond(dialect, &keys, cursor, later),
            (Some(rank), Position::Ranked { rank: value, at }) => {
                beyond_ranked(dialect, &keys, rank, value, at, later)
            }
            _ => return Err(PageError::CursorFromOtherOrder(argument)),
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
    if let Some(rank) = rank {
        query = query
            .expr_as(rank.clone(), RANK_COLUMN)
            .order_by(rank, sort_order.clone());
    }
    let (date, id) = keys;
    let query = query
        .order_by(date, sort_order.clone())
        .order_by(id, sort_order);
    let mut statement = tags.add_columns(query, dialect).build(dialect.backend());
    // Last in the statement: nothing follows ORDER BY in a page's SELECT.
    statement.sql.push_str(&format!(" LIMIT {}", page.size + 1));
    Ok(statement)
}

/// Releases strictly past `cursor`: later in (date, id) when `later`, earlier otherwise; `keys`
/// are the date and id columns the list is ordered by. How the comparison is written is the
/// dialect's (`Dialect::past`).
fn beyond(dialect: Dialect, (date, id): &(Expr, Expr), cursor: Cursor, later: bool) -> Condition {
    dialect.past(
        (date.clone(), id.clone()),
        (cursor.published_on, cursor.id),
        later,
    )
}

/// Releases strictly past (`value`, `cursor`) in (rank, date, id): greater when `later`,
/// smaller otherwise. The rank is compared with the very expression that produced `value`.
fn beyond_ranked(
    dialect: Dialect,
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
            .add(beyond(dialect, keys, cursor, later)),
    )
}
