//! Relay-style pages of releases. Cursors are keyset positions (`published_on`, `id`), so a page
//! is one index range scan wherever it starts, and pages stay consistent while releases arrive.
//! `totalCount` is counted only when the query selects it.

use async_graphql::{Context, Enum, Object, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, Order, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use model::entity::release;

use crate::error::ApiError;
use crate::schema::database;
use crate::schema::filter::{ReleaseFilter, Scope};
use crate::schema::loaders::{OfficesOfRelease, ProgrammesOfRelease, prefetch};
use crate::schema::release::Release;

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

    /// Reads a cursor given as argument `argument` (named in the error).
    pub fn decode(text: &str, argument: &'static str) -> Result<Cursor, ApiError> {
        let malformed = || ApiError::MalformedCursor { argument };
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| malformed())?;
        let plain = String::from_utf8(bytes).map_err(|_| malformed())?;
        let (date, id) = plain.split_once('|').ok_or_else(malformed)?;
        Ok(Cursor {
            published_on: NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| malformed())?,
            id: Uuid::try_parse(id).map_err(|_| malformed())?,
        })
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    direction: Direction,
    size: u64,
    after: Option<Cursor>,
    before: Option<Cursor>,
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
                .map(|text| Cursor::decode(&text, "after"))
                .transpose()?,
            before: self
                .before
                .map(|text| Cursor::decode(&text, "before"))
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
/// offices of the page are loaded in one query each if selected.
pub async fn resolve_releases(
    ctx: &Context<'_>,
    scope: Scope,
    filter: Option<ReleaseFilter>,
    order: Option<ReleaseOrder>,
    page: PageArgs,
) -> Result<ReleaseConnection, ApiError> {
    let page = page.validate()?;
    let db = database(ctx)?;
    let condition = filter.unwrap_or_default().to_condition(db, scope).await?;
    let selection = ctx.look_ahead();
    let count_total = selection.field("totalCount").exists();
    let connection =
        fetch_releases(db, condition, order.unwrap_or_default(), page, count_total).await?;

    let selected = |field: &str| {
        selection.field("nodes").field(field).exists()
            || selection.field("edges").field("node").field(field).exists()
    };
    let ids = || connection.releases.iter().map(|release| release.id);
    futures::try_join!(
        prefetch(ctx, selected("programmes"), ids().map(ProgrammesOfRelease)),
        prefetch(ctx, selected("offices"), ids().map(OfficesOfRelease)),
    )?;
    Ok(connection)
}

/// One page of the releases matching `filter`, in `order`, plus their total when `count_total`.
/// The page is one `SELECT … LIMIT size + 1` (the extra row tells whether more follow); the
/// count, when wanted, runs at the same time.
pub async fn fetch_releases(
    db: &DatabaseConnection,
    filter: Condition,
    order: ReleaseOrder,
    page: PageRequest,
    count_total: bool,
) -> Result<ReleaseConnection, ApiError> {
    let rows = page_query(filter.clone(), order, &page).all(db);
    let total = async {
        if count_total {
            release::Entity::find()
                .filter(filter)
                .count(db)
                .await
                .map(Some)
        } else {
            Ok(None)
        }
    };
    let (mut releases, total_count) = futures::try_join!(rows, total)?;

    let more_beyond_page = releases.len() as u64 > page.size;
    releases.truncate(usize::try_from(page.size).unwrap_or(usize::MAX));
    // Relay lets a server report the side it did not scan as "is there a cursor there";
    // finding out exactly would cost another query on every page.
    let (has_next_page, has_previous_page) = match page.direction {
        Direction::Forward => (more_beyond_page, page.after.is_some()),
        Direction::Backward => {
            releases.reverse();
            (page.before.is_some(), more_beyond_page)
        }
    };
    let page_info = PageInfo {
        has_next_page,
        has_previous_page,
        start_cursor: releases.first().map(|r| Cursor::of(r).encode()),
        end_cursor: releases.last().map(|r| Cursor::of(r).encode()),
    };
    Ok(ReleaseConnection {
        releases,
        page_info,
        total_count,
    })
}

/// The SELECT of one page: the filter, the cursors, the order to scan in, one row extra.
fn page_query(
    filter: Condition,
    order: ReleaseOrder,
    page: &PageRequest,
) -> Select<release::Entity> {
    let ascending = order == ReleaseOrder::OldestFirst;
    let mut window = filter;
    if let Some(after) = page.after {
        window = window.add(beyond(after, ascending));
    }
    if let Some(before) = page.before {
        window = window.add(beyond(before, !ascending));
    }
    // A backward page is read from its far end, then flipped into the requested order.
    let scan_ascending = match page.direction {
        Direction::Forward => ascending,
        Direction::Backward => !ascending,
    };
    let sort = if scan_ascending {
        Order::Asc
    } else {
        Order::Desc
    };
    release::Entity::find()
        .filter(window)
        .order_by(release::Column::PublishedOn, sort.clone())
        .order_by(release::Column::Id, sort)
        .limit(page.size + 1)
}

/// Releases strictly past `cursor`: later in (date, id) when `later`, earlier otherwise.
/// Spelled out rather than as a row-value comparison, so both backends read it the same way.
/// The OR alone is no index bound; the redundant `date >=`/`<=` is one, so a page deep in the
/// archive starts at its cursor in the (published_on, id) index instead of scanning up to it.
fn beyond(cursor: Cursor, later: bool) -> Condition {
    let (date, id) = (release::Column::PublishedOn, release::Column::Id);
    let (date_bound, date_past, id_past) = if later {
        (
            date.gte(cursor.published_on),
            date.gt(cursor.published_on),
            id.gt(cursor.id),
        )
    } else {
        (
            date.lte(cursor.published_on),
            date.lt(cursor.published_on),
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

#[derive(Debug)]
pub struct ReleaseConnection {
    releases: Vec<release::Model>,
    page_info: PageInfo,
    total_count: Option<u64>,
}

/// A page of releases, and how to reach the pages around it.
#[Object]
impl ReleaseConnection {
    /// The releases of this page in the requested order, each with its cursor.
    async fn edges(&self) -> Vec<ReleaseEdge> {
        self.releases
            .iter()
            .map(|release| ReleaseEdge {
                cursor: Cursor::of(release).encode(),
                node: Release(release.clone()),
            })
            .collect()
    }

    /// The releases of this page in the requested order: `edges` without the cursors.
    async fn nodes(&self) -> Vec<Release> {
        self.releases.iter().cloned().map(Release).collect()
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
        }
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
        let sql = page_query(Condition::all(), ReleaseOrder::NewestFirst, &page)
            .build(DbBackend::Postgres)
            .to_string();
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
