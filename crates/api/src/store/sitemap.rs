//! The sitemap's reads: releases in the order they were first stored, `(created_at, id)`, cut
//! into pages of a fixed number of releases. A page is named by its first release, so that
//! reading one is an index range scan from that release however deep it lies (no `OFFSET` from
//! the start of the archive), and since new releases sort after every stored one, a page once
//! full keeps its releases while the archive grows.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use model::entity::release;

use crate::store::{Store, StoreError};

const LAST_MODIFIED: &str = "last_modified";
const NEXT_START: &str = "next_start";

/// One page of the sitemap's releases, as the index lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageBounds {
    /// When the page's most recently changed release changed.
    pub last_modified: DateTime<Utc>,
    /// The first release of the next page; `None` on the last page.
    pub next_start: Option<Uuid>,
}

/// A release as the sitemap lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SitemapRelease {
    pub slug: String,
    pub updated_at: DateTime<Utc>,
}

impl Store {
    /// The page of at most `size` releases that starts at `start` (the first release stored
    /// when `None`): when its newest change happened and where the next page starts. `None` when
    /// the page would be empty: no release at all, or `start` is no release's id. One statement.
    pub async fn sitemap_page_bounds(
        &self,
        start: Option<Uuid>,
        size: u64,
    ) -> Result<Option<PageBounds>, StoreError> {
        let dialect = self.dialect()?;
        let statement = dialect.backend().build(&page_bounds_statement(start, size));
        let Some(row) = self.db().query_one_raw(statement).await? else {
            return Ok(None);
        };
        let last_modified: Option<DateTime<Utc>> = row.try_get("", LAST_MODIFIED)?;
        let next_start: Option<Uuid> = row.try_get("", NEXT_START)?;
        Ok(last_modified.map(|last_modified| PageBounds {
            last_modified,
            next_start,
        }))
    }

    /// The releases of the page of at most `size` that starts at `start`, in order.
    pub async fn sitemap_releases(
        &self,
        start: Option<Uuid>,
        size: u64,
    ) -> Result<Vec<SitemapRelease>, StoreError> {
        let rows: Vec<(String, DateTime<Utc>)> = release::Entity::find()
            .select_only()
            .column(release::Column::Slug)
            .column(release::Column::UpdatedAt)
            .filter(from_start(start))
            .order_by(release::Column::CreatedAt, Order::Asc)
            .order_by(release::Column::Id, Order::Asc)
            .limit(size)
            .into_tuple()
            .all(self.db())
            .await?;
        Ok(rows
            .into_iter()
            .map(|(slug, updated_at)| SitemapRelease { slug, updated_at })
            .collect())
    }
}

/// `SELECT (newest change among the page's releases), (first release after them)`: two scalar
/// subqueries over the same range of the `(created_at, id, updated_at)` index, which holds
/// every column they read.
pub fn page_bounds_statement(start: Option<Uuid>, size: u64) -> SelectStatement {
    let page = Query::select()
        .column(release::Column::UpdatedAt)
        .from(release::Entity)
        .cond_where(from_start(start))
        .order_by(release::Column::CreatedAt, Order::Asc)
        .order_by(release::Column::Id, Order::Asc)
        .limit(size)
        .take();
    let newest_change = Query::select()
        .expr(Func::max(Expr::col(release::Column::UpdatedAt)))
        .from_subquery(page, Alias::new("page"))
        .take();
    let next_start = Query::select()
        .column(release::Column::Id)
        .from(release::Entity)
        .cond_where(from_start(start))
        .order_by(release::Column::CreatedAt, Order::Asc)
        .order_by(release::Column::Id, Order::Asc)
        .limit(1)
        .offset(size)
        .take();
    Query::select()
        .expr_as(
            Expr::SubQuery(None, Box::new(newest_change.into())),
            Alias::new(LAST_MODIFIED),
        )
        .expr_as(
            Expr::SubQuery(None, Box::new(next_start.into())),
            Alias::new(NEXT_START),
        )
        .take()
}

/// Releases at or after `start` in `(created_at, id)`; every release when `None`.
/// Spelled out rather than as a row-value comparison with a subquery, which neither backend
/// can use as an index bound; the plain `created_at >=` is the bound. When `start` is no
/// release's id, its subqueries are NULL and nothing matches.
fn from_start(start: Option<Uuid>) -> Condition {
    let Some(start) = start else {
        return Condition::all();
    };
    let created_at_of_start = || {
        Expr::SubQuery(
            None,
            Box::new(
                Query::select()
                    .column(release::Column::CreatedAt)
                    .from(release::Entity)
                    .and_where(release::Column::Id.eq(start))
                    .take()
                    .into(),
            ),
        )
    };
    let created_at = || Expr::col((release::Entity, release::Column::CreatedAt));
    Condition::all()
        .add(created_at().gte(created_at_of_start()))
        .add(
            Condition::any()
                .add(created_at().gt(created_at_of_start()))
                .add(Expr::col((release::Entity, release::Column::Id)).gte(start)),
        )
}

#[cfg(test)]
mod tests {
    use sea_orm::QueryTrait;

    use super::*;
    use crate::store::Dialect;

    /// The bounds of a page after the first: both subqueries start at the page's first release
    /// with a plain `created_at >=` (the index bound), and the next page's start is the row
    /// right after the page (`OFFSET` within the page only).
    #[test]
    fn page_bounds_read_one_range_of_the_stored_order() {
        for dialect in [Dialect::Postgres, Dialect::Sqlite] {
            let sql = dialect
                .backend()
                .build(&page_bounds_statement(Some(Uuid::nil()), 7))
                .to_string();
            assert_eq!(sql.matches("LIMIT 1 OFFSET 7").count(), 1, "{sql}");
            insta::assert_snapshot!(format!("page_bounds_{dialect:?}"), sql);
        }
    }

    /// A page's releases: the same range, read in order.
    #[test]
    fn page_releases_in_stored_order() {
        let sql = release::Entity::find()
            .select_only()
            .column(release::Column::Slug)
            .column(release::Column::UpdatedAt)
            .filter(from_start(Some(Uuid::nil())))
            .order_by(release::Column::CreatedAt, Order::Asc)
            .order_by(release::Column::Id, Order::Asc)
            .limit(7)
            .build(Dialect::Postgres.backend())
            .to_string();
        insta::assert_snapshot!(sql);
    }
}
