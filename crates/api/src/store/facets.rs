//! Releases counted per publication day and per programme or office, for `releaseFacets`.
//!
//! Each count reads the precomputed tables that ingest keeps (`release_day_count`,
//! `release_tag_day_count`, `release_pair_day_count`: releases per day, per tag and day, per
//! programme-office pair and day) whenever they give the exact answer for the criteria: no
//! search, at most one programme and at most one office (a release with two of the programmes
//! asked for would be counted twice), any date range. Otherwise it counts the base tables:
//! `release` grouped by day, `release_programme`/`release_office` grouped by tag, the other
//! criteria as semi-joins.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Order, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, Iterable, QueryFilter,
    QuerySelect, QueryTrait, Statement,
};

use model::TagKind;
use model::entity::{
    office, programme, release, release_day_count, release_pair_day_count, release_tag_day_count,
};

use crate::store::criteria::{Criteria, Scope, dates_of};
use crate::store::tag_table::TagTable;
use crate::store::{Dialect, Store, StoreError};

/// Criteria the precomputed counts answer exactly: a date range, at most one programme and at
/// most one office, nothing else.
#[derive(Debug, Clone, Copy)]
struct Precomputed {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    programme: Option<i32>,
    office: Option<i32>,
}

impl Precomputed {
    /// `None` when `criteria` need the base tables: a search, or several programmes (or
    /// offices), whose releases may overlap.
    fn of(criteria: &Criteria) -> Option<Precomputed> {
        fn at_most_one(ids: Option<&Vec<i32>>) -> Option<Option<i32>> {
            match ids.map(Vec::as_slice) {
                None | Some([]) => Some(None),
                Some([id]) => Some(Some(*id)),
                Some(_) => None,
            }
        }
        if criteria.search.is_some() {
            return None;
        }
        Some(Precomputed {
            from: criteria.from,
            to: criteria.to,
            programme: at_most_one(criteria.programme_ids.as_ref())?,
            office: at_most_one(criteria.office_ids.as_ref())?,
        })
    }

    /// `column` (a count table's `published_on`) within the date range.
    fn dates(&self, column: impl ColumnTrait) -> Condition {
        dates_of(column.into_expr(), (self.from, self.to))
    }

    /// The single id of `kind`, if one is required.
    fn id(&self, kind: TagKind) -> Option<i32> {
        match kind {
            TagKind::Programme => self.programme,
            TagKind::Office => self.office,
        }
    }
}

/// The other kind of tag.
fn other(kind: TagKind) -> TagKind {
    match kind {
        TagKind::Programme => TagKind::Office,
        TagKind::Office => TagKind::Programme,
    }
}

/// `kind`'s id column in `release_pair_day_count`.
fn pair_column(kind: TagKind) -> release_pair_day_count::Column {
    match kind {
        TagKind::Programme => release_pair_day_count::Column::ProgrammeId,
        TagKind::Office => release_pair_day_count::Column::OfficeId,
    }
}

impl Store {
    /// How many releases of the whole archive match `criteria`, when the precomputed counts
    /// give it exactly: the sum of at most one row per day of `release_day_count` (or of the
    /// programme's, the office's or the pair's rows), where counting the base tables reads
    /// every matching release (a million for the unfiltered archive, about 0.1 s). `None`:
    /// the criteria need the base tables.
    pub async fn precomputed_total(&self, criteria: &Criteria) -> Result<Option<u64>, StoreError> {
        let Some(counts) = Precomputed::of(criteria) else {
            return Ok(None);
        };
        let db = self.db();
        let total: Option<Option<i64>> = match (counts.programme, counts.office) {
            (None, None) => {
                release_day_count::Entity::find()
                    .select_only()
                    .column_as(release_day_count::Column::Releases.sum(), "total")
                    .filter(counts.dates(release_day_count::Column::PublishedOn))
                    .into_tuple()
                    .one(db)
                    .await?
            }
            (Some(id), None) | (None, Some(id)) => {
                let kind = if counts.programme.is_some() {
                    TagKind::Programme
                } else {
                    TagKind::Office
                };
                release_tag_day_count::Entity::find()
                    .select_only()
                    .column_as(release_tag_day_count::Column::Releases.sum(), "total")
                    .filter(release_tag_day_count::Column::Kind.eq(kind.code()))
                    .filter(release_tag_day_count::Column::TagId.eq(id))
                    .filter(counts.dates(release_tag_day_count::Column::PublishedOn))
                    .into_tuple()
                    .one(db)
                    .await?
            }
            (Some(programme), Some(office)) => {
                release_pair_day_count::Entity::find()
                    .select_only()
                    .column_as(release_pair_day_count::Column::Releases.sum(), "total")
                    .filter(release_pair_day_count::Column::ProgrammeId.eq(programme))
                    .filter(release_pair_day_count::Column::OfficeId.eq(office))
                    .filter(counts.dates(release_pair_day_count::Column::PublishedOn))
                    .into_tuple()
                    .one(db)
                    .await?
            }
        };
        Ok(Some(
            u64::try_from(total.flatten().unwrap_or(0)).unwrap_or_default(),
        ))
    }

    /// Releases matching `criteria` per publication day, from the precomputed counts when they
    /// are exact: `SELECT published_on, releases FROM release_day_count` (or the programme's,
    /// the office's or the pair's rows), else `SELECT published_on, COUNT(*) FROM release …
    /// GROUP BY published_on`. A day is at most one row (~10,000 rows over 27 years).
    pub async fn day_counts(
        &self,
        criteria: &Criteria,
    ) -> Result<BTreeMap<NaiveDate, i64>, StoreError> {
        let dialect = self.dialect()?;
        let db = self.db();
        let Some(counts) = Precomputed::of(criteria) else {
            let rows: Vec<(NaiveDate, i64)> = release::Entity::find()
                .select_only()
                .column(release::Column::PublishedOn)
                .column_as(release::Column::Id.count(), "release_count")
                .filter(criteria.condition(dialect, Scope::Archive))
                .group_by(release::Column::PublishedOn)
                .into_tuple()
                .all(db)
                .await?;
            return Ok(rows.into_iter().collect());
        };
        let rows: Vec<(NaiveDate, i32)> = match (counts.programme, counts.office) {
            (None, None) => {
                release_day_count::Entity::find()
                    .select_only()
                    .column(release_day_count::Column::PublishedOn)
                    .column(release_day_count::Column::Releases)
                    .filter(counts.dates(release_day_count::Column::PublishedOn))
                    .into_tuple()
                    .all(db)
                    .await?
            }
            (Some(id), None) | (None, Some(id)) => {
                let kind = if counts.programme.is_some() {
                    TagKind::Programme
                } else {
                    TagKind::Office
                };
                release_tag_day_count::Entity::find()
                    .select_only()
                    .column(release_tag_day_count::Column::PublishedOn)
                    .column(release_tag_day_count::Column::Releases)
                    .filter(release_tag_day_count::Column::Kind.eq(kind.code()))
                    .filter(release_tag_day_count::Column::TagId.eq(id))
                    .filter(counts.dates(release_tag_day_count::Column::PublishedOn))
                    .into_tuple()
                    .all(db)
                    .await?
            }
            (Some(programme), Some(office)) => {
                release_pair_day_count::Entity::find()
                    .select_only()
                    .column(release_pair_day_count::Column::PublishedOn)
                    .column(release_pair_day_count::Column::Releases)
                    .filter(release_pair_day_count::Column::ProgrammeId.eq(programme))
                    .filter(release_pair_day_count::Column::OfficeId.eq(office))
                    .filter(counts.dates(release_pair_day_count::Column::PublishedOn))
                    .into_tuple()
                    .all(db)
                    .await?
            }
        };
        Ok(rows
            .into_iter()
            .map(|(day, releases)| (day, i64::from(releases)))
            .collect())
    }

    /// Releases matching `criteria` per programme, largest count first (ties by name, slug);
    /// programmes without releases are left out.
    pub async fn programme_counts(
        &self,
        criteria: &Criteria,
    ) -> Result<Vec<(programme::Model, i64)>, StoreError> {
        self.read_counts(tag_counts_statement(
            self.dialect()?,
            TagKind::Programme,
            criteria,
        ))
        .await
    }

    /// Releases matching `criteria` per office, as [`Store::programme_counts`].
    pub async fn office_counts(
        &self,
        criteria: &Criteria,
    ) -> Result<Vec<(office::Model, i64)>, StoreError> {
        self.read_counts(tag_counts_statement(
            self.dialect()?,
            TagKind::Office,
            criteria,
        ))
        .await
    }

    async fn read_counts<M: FromQueryResult>(
        &self,
        statement: Statement,
    ) -> Result<Vec<(M, i64)>, StoreError> {
        self.db()
            .query_all_raw(statement)
            .await?
            .iter()
            .map(|row| {
                Ok((
                    M::from_query_result(row, "")?,
                    row.try_get("", RELEASE_COUNT)?,
                ))
            })
            .collect()
    }
}

const RELEASE_COUNT: &str = "release_count";

/// The statement counting releases matching `criteria` per programme or office.
pub fn tag_counts_statement(dialect: Dialect, kind: TagKind, criteria: &Criteria) -> Statement {
    let query = match kind {
        TagKind::Programme => tag_counts_query(
            dialect,
            kind,
            criteria,
            programme::Column::iter().map(|column| (programme::Entity, column)),
            (programme::Entity, programme::Column::Id),
            (programme::Entity, programme::Column::Name),
            (programme::Entity, programme::Column::Slug),
        ),
        TagKind::Office => tag_counts_query(
            dialect,
            kind,
            criteria,
            office::Column::iter().map(|column| (office::Entity, column)),
            (office::Entity, office::Column::Id),
            (office::Entity, office::Column::Name),
            (office::Entity, office::Column::Slug),
        ),
    };
    dialect.backend().build(&query)
}
const TARGET_ID: &str = "target_id";

/// Releases per programme (or office), largest first, then by name and slug:
///
/// ```sql
/// SELECT programme.*, counted.release_count FROM programme
/// JOIN (<counts>) AS counted ON counted.target_id = programme.id
/// ORDER BY counted.release_count DESC, programme.name, programme.slug
/// ```
///
/// where `<counts>` is, when the precomputed counts are exact,
/// `SELECT tag_id AS target_id, SUM(releases) AS release_count FROM release_tag_day_count
/// WHERE kind = 1 [AND published_on …] GROUP BY tag_id` (or, under one office, the same from
/// `release_pair_day_count WHERE office_id = ?`), and otherwise
/// `SELECT programme_id AS target_id, COUNT(*) AS release_count FROM release_programme
/// [WHERE release_id IN (SELECT id FROM release WHERE <condition>)] GROUP BY programme_id`.
/// The tags are counted before the join, so the catalogue is joined once per bucket.
fn tag_counts_query<C, N>(
    dialect: Dialect,
    kind: TagKind,
    criteria: &Criteria,
    columns: impl IntoIterator<Item = C>,
    id: N,
    name: N,
    slug: N,
) -> SelectStatement
where
    C: sea_orm::sea_query::IntoColumnRef,
    N: sea_orm::sea_query::IntoColumnRef,
{
    let table = TagTable::of(kind);
    let counts = match Precomputed::of(criteria) {
        Some(counts) => match counts.id(other(kind)) {
            None => release_tag_day_count::Entity::find()
                .select_only()
                .column_as(release_tag_day_count::Column::TagId, TARGET_ID)
                .column_as(release_tag_day_count::Column::Releases.sum(), RELEASE_COUNT)
                .filter(release_tag_day_count::Column::Kind.eq(kind.code()))
                .filter(counts.dates(release_tag_day_count::Column::PublishedOn))
                .group_by(release_tag_day_count::Column::TagId)
                .into_query(),
            Some(other_id) => release_pair_day_count::Entity::find()
                .select_only()
                .column_as(pair_column(kind), TARGET_ID)
                .column_as(
                    release_pair_day_count::Column::Releases.sum(),
                    RELEASE_COUNT,
                )
                .filter(pair_column(other(kind)).eq(other_id))
                .filter(counts.dates(release_pair_day_count::Column::PublishedOn))
                .group_by(pair_column(kind))
                .into_query(),
        },
        None => {
            let mut counts = Query::select();
            counts
                .expr_as(table.tag_col(), Alias::new(TARGET_ID))
                .expr_as(table.release_col().count(), Alias::new(RELEASE_COUNT))
                .from(table.table.clone())
                .group_by_col((table.table.clone(), table.tag_id.clone()));
            let condition = criteria.condition(dialect, Scope::Archive);
            if !condition.is_empty() {
                let releases = release::Entity::find()
                    .select_only()
                    .column(release::Column::Id)
                    .filter(condition)
                    .into_query();
                counts.and_where(table.release_col().in_subquery(releases));
            }
            counts
        }
    };
    let counted = Alias::new("counted");
    let mut query = Query::select();
    query
        .columns(columns)
        .column((counted.clone(), Alias::new(RELEASE_COUNT)))
        .from(table.catalogue.clone())
        .join_subquery(
            JoinType::InnerJoin,
            counts,
            counted.clone(),
            Expr::col((counted.clone(), Alias::new(TARGET_ID))).equals(id),
        )
        .order_by((counted, Alias::new(RELEASE_COUNT)), Order::Desc)
        .order_by(name, Order::Asc)
        .order_by(slug, Order::Asc);
    query
}
