//! `releaseFacets`: how many releases match a filter, by year, month, programme and office.
//!
//! Faceted-search rule: each facet applies every criterion of the filter except its own
//! dimension, so that choosing one programme still shows what choosing another would give;
//! `total` applies them all. `year` and `month` are one dimension for `years` (a month only
//! means something within its year); `months` drops only `month`. The date range
//! (`publishedFrom`/`publishedTo`), `search` and any other criterion apply to every facet.
//!
//! A request is a fixed number of statements whatever the number of buckets: one slug lookup
//! per kind named in the filter (as for `releases`), then three concurrent counts:
//! - releases per publication day, with every criterion but `year`/`month`: the days are folded
//!   into `years` in Rust, those of the chosen year into `months`, and those of the chosen year
//!   and month into `total`. A day is at most one row per date (~10,000 rows over 27 years);
//! - releases per programme, joined to `programme` for the objects and the order;
//! - the same for offices.
//!
//! Each count reads the precomputed tables that ingest keeps (`release_day_count`,
//! `release_tag_day_count`, `release_pair_day_count`: releases per day, per tag and day, per
//! programme-office pair and day) whenever they give the exact answer for that facet's
//! criteria: no `search`, at most one programme and at most one office (a release with two of
//! the programmes asked for would be counted twice), any date range. Otherwise it counts the
//! base tables: `release` grouped by day, `release_programme`/`release_office` grouped by tag,
//! the other criteria as semi-joins.

use std::collections::BTreeMap;

use async_graphql::{Context, SimpleObject};
use chrono::{Datelike, NaiveDate};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Order, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    FromQueryResult, Iterable, QueryFilter, QuerySelect, QueryTrait,
};

use model::entity::{
    office, programme, release, release_day_count, release_office, release_pair_day_count,
    release_programme, release_tag_day_count,
};

use crate::error::ApiError;
use crate::schema::database;
use crate::schema::filter::{ReleaseFilter, ResolvedFilter, Scope};
use crate::schema::office::Office;
use crate::schema::programme::Programme;

/// Releases matching a filter, counted by year, month, programme and office.
#[derive(Debug, Clone, SimpleObject)]
pub struct ReleaseFacets {
    /// Number of releases matching the whole filter.
    pub total: i64,
    /// Releases per year, newest first, counted with every criterion of the filter except `year` and `month` (a month only means something within its year). Years without releases are left out.
    pub years: Vec<YearCount>,
    /// Releases per month, newest first, counted with every criterion of the filter except `month`: with `year`, the months of that year. Months without releases are left out.
    pub months: Vec<MonthCount>,
    /// Releases per programme, largest count first (ties by name), counted with every criterion of the filter except `programmes`, so that choosing a programme still shows the others. Programmes without releases are left out.
    pub programmes: Vec<ProgrammeCount>,
    /// Releases per office, largest count first (ties by name), counted with every criterion of the filter except `offices`, so that choosing an office still shows the others. Offices without releases are left out.
    pub offices: Vec<OfficeCount>,
}

/// How many releases of a facet were published in a year.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct YearCount {
    /// The year, e.g. 2021: pass it as `ReleaseFilter.year`.
    pub year: i32,
    /// Number of releases published that year.
    pub count: i64,
}

/// How many releases of a facet were published in a month.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct MonthCount {
    /// The year of the month: pass it as `ReleaseFilter.year`.
    pub year: i32,
    /// The month, 1 (January) to 12 (December): pass it as `ReleaseFilter.month`.
    pub month: i32,
    /// Number of releases published that month.
    pub count: i64,
}

/// How many releases of a facet concern a programme.
#[derive(Debug, Clone, SimpleObject)]
pub struct ProgrammeCount {
    /// The programme: pass its `slug` in `ReleaseFilter.programmes`.
    pub programme: Programme,
    /// Number of releases about the programme.
    pub count: i64,
}

/// How many releases of a facet concern an office.
#[derive(Debug, Clone, SimpleObject)]
pub struct OfficeCount {
    /// The office: pass its `slug` in `ReleaseFilter.offices`.
    pub office: Office,
    /// Number of releases concerning the office.
    pub count: i64,
}

/// Resolves `Query.releaseFacets`: the filter is checked before any query runs (with the
/// messages `releases` gives), its slugs are resolved once, then the three counts run at once.
pub async fn release_facets(
    ctx: &Context<'_>,
    filter: Option<ReleaseFilter>,
) -> Result<ReleaseFacets, ApiError> {
    let db = database(ctx)?;
    let filter = filter.unwrap_or_default();
    let criteria = FacetCriteria::new(&filter, filter.resolve(db).await?);
    let backend = db.get_database_backend();
    let (days, programmes, offices) = futures::try_join!(
        count_days(db, &criteria.days, backend),
        tag_counts(db, &PROGRAMMES, &criteria.programmes, backend),
        tag_counts(db, &OFFICES, &criteria.offices, backend),
    )?;
    let period = Period::of(&filter);
    Ok(ReleaseFacets {
        total: days
            .iter()
            .filter(|(day, _)| period.contains(**day))
            .map(|(_, count)| count)
            .sum(),
        years: years(&days),
        months: months(&days, period),
        programmes: programmes
            .into_iter()
            .map(|(model, count)| ProgrammeCount {
                programme: Programme(model),
                count,
            })
            .collect(),
        offices: offices
            .into_iter()
            .map(|(model, count)| OfficeCount {
                office: Office(model),
                count,
            })
            .collect(),
    })
}

/// The criteria of each count: the resolved filter minus the count's own dimension.
#[derive(Debug)]
struct FacetCriteria {
    /// Every criterion but `year` and `month` (those are applied to the days in Rust).
    days: ResolvedFilter,
    /// Every criterion but `programmes`.
    programmes: ResolvedFilter,
    /// Every criterion but `offices`.
    offices: ResolvedFilter,
}

impl FacetCriteria {
    fn new(filter: &ReleaseFilter, resolved: ResolvedFilter) -> FacetCriteria {
        FacetCriteria {
            // `resolve` checked these against each other; without `year`/`month` they are the
            // whole date range.
            days: ResolvedFilter {
                from: filter.published_from.map(|date| date.0),
                to: filter.published_to.map(|date| date.0),
                ..resolved.clone()
            },
            programmes: ResolvedFilter {
                programme_ids: None,
                ..resolved.clone()
            },
            offices: ResolvedFilter {
                office_ids: None,
                ..resolved
            },
        }
    }
}

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
    fn of(criteria: &ResolvedFilter) -> Option<Precomputed> {
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
        let mut condition = Condition::all();
        if let Some(from) = self.from {
            condition = condition.add(column.gte(from));
        }
        if let Some(to) = self.to {
            condition = condition.add(column.lte(to));
        }
        condition
    }
}

/// The `year` and `month` of a filter, applied to days in Rust (already validated).
#[derive(Debug, Clone, Copy)]
struct Period {
    year: Option<i32>,
    month: Option<i32>,
}

impl Period {
    fn of(filter: &ReleaseFilter) -> Period {
        Period {
            year: filter.year,
            month: filter.month,
        }
    }

    fn contains(self, day: NaiveDate) -> bool {
        self.year.is_none_or(|year| day.year() == year)
            && self.month.is_none_or(|month| month_of(day) == month)
    }

    /// The months facet drops only `month`.
    fn without_month(self) -> Period {
        Period {
            month: None,
            ..self
        }
    }
}

fn month_of(day: NaiveDate) -> i32 {
    // 1 to 12: always fits.
    i32::try_from(day.month()).unwrap_or_default()
}

/// Releases per publication day, from the precomputed counts when they are exact:
/// `SELECT published_on, releases FROM release_day_count` (or the programme's, the office's or
/// the pair's rows), else `SELECT published_on, COUNT(*) FROM release … GROUP BY published_on`.
async fn count_days(
    db: &DatabaseConnection,
    criteria: &ResolvedFilter,
    backend: DbBackend,
) -> Result<BTreeMap<NaiveDate, i64>, ApiError> {
    let Some(counts) = Precomputed::of(criteria) else {
        let rows: Vec<(NaiveDate, i64)> = release::Entity::find()
            .select_only()
            .column(release::Column::PublishedOn)
            .column_as(release::Column::Id.count(), "release_count")
            .filter(criteria.condition(backend, Scope::Archive)?)
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
        (Some(programme), None) => {
            tag_days(db, counts, release_tag_day_count::PROGRAMME, programme).await?
        }
        (None, Some(office)) => tag_days(db, counts, release_tag_day_count::OFFICE, office).await?,
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

/// The days of one programme or office: `SELECT published_on, releases FROM
/// release_tag_day_count WHERE kind = ? AND tag_id = ?`.
async fn tag_days(
    db: &DatabaseConnection,
    counts: Precomputed,
    kind: i16,
    tag_id: i32,
) -> Result<Vec<(NaiveDate, i32)>, DbErr> {
    release_tag_day_count::Entity::find()
        .select_only()
        .column(release_tag_day_count::Column::PublishedOn)
        .column(release_tag_day_count::Column::Releases)
        .filter(release_tag_day_count::Column::Kind.eq(kind))
        .filter(release_tag_day_count::Column::TagId.eq(tag_id))
        .filter(counts.dates(release_tag_day_count::Column::PublishedOn))
        .into_tuple()
        .all(db)
        .await
}

fn years(days: &BTreeMap<NaiveDate, i64>) -> Vec<YearCount> {
    let mut years: BTreeMap<i32, i64> = BTreeMap::new();
    for (day, count) in days {
        *years.entry(day.year()).or_default() += count;
    }
    years
        .into_iter()
        .rev()
        .map(|(year, count)| YearCount { year, count })
        .collect()
}

fn months(days: &BTreeMap<NaiveDate, i64>, period: Period) -> Vec<MonthCount> {
    let within = period.without_month();
    let mut months: BTreeMap<(i32, i32), i64> = BTreeMap::new();
    for (day, count) in days.iter().filter(|(day, _)| within.contains(**day)) {
        *months.entry((day.year(), month_of(*day))).or_default() += count;
    }
    months
        .into_iter()
        .rev()
        .map(|((year, month), count)| MonthCount { year, month, count })
        .collect()
}

/// One tag dimension of the facets (programmes or offices): the tag table and its columns, the
/// catalogue table it points to, and where the precomputed counts keep it. (`filter::TagKind`
/// names the same two kinds for paging, where no typed catalogue model is needed.)
#[derive(Debug)]
struct TagFacet<Tag: EntityTrait, Target: EntityTrait> {
    tags: Tag,
    tag_release: Tag::Column,
    tag_target: Tag::Column,
    target: Target,
    target_id: Target::Column,
    target_name: Target::Column,
    target_slug: Target::Column,
    /// This kind in `release_tag_day_count`.
    count_kind: i16,
    /// This kind's id in `release_pair_day_count`.
    pair_own: release_pair_day_count::Column,
    /// The other kind's id in `release_pair_day_count`.
    pair_other: release_pair_day_count::Column,
    /// The other kind's single id in precomputed criteria, if any.
    other: fn(&Precomputed) -> Option<i32>,
}

const PROGRAMMES: TagFacet<release_programme::Entity, programme::Entity> = TagFacet {
    tags: release_programme::Entity,
    tag_release: release_programme::Column::ReleaseId,
    tag_target: release_programme::Column::ProgrammeId,
    target: programme::Entity,
    target_id: programme::Column::Id,
    target_name: programme::Column::Name,
    target_slug: programme::Column::Slug,
    count_kind: release_tag_day_count::PROGRAMME,
    pair_own: release_pair_day_count::Column::ProgrammeId,
    pair_other: release_pair_day_count::Column::OfficeId,
    other: |counts| counts.office,
};

const OFFICES: TagFacet<release_office::Entity, office::Entity> = TagFacet {
    tags: release_office::Entity,
    tag_release: release_office::Column::ReleaseId,
    tag_target: release_office::Column::OfficeId,
    target: office::Entity,
    target_id: office::Column::Id,
    target_name: office::Column::Name,
    target_slug: office::Column::Slug,
    count_kind: release_tag_day_count::OFFICE,
    pair_own: release_pair_day_count::Column::OfficeId,
    pair_other: release_pair_day_count::Column::ProgrammeId,
    other: |counts| counts.programme,
};

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
async fn tag_counts<Tag, Target>(
    db: &DatabaseConnection,
    kind: &TagFacet<Tag, Target>,
    criteria: &ResolvedFilter,
    backend: DbBackend,
) -> Result<Vec<(Target::Model, i64)>, ApiError>
where
    Tag: EntityTrait,
    Target: EntityTrait,
    Target::Model: FromQueryResult,
{
    let counted = Alias::new("counted");
    let target_id = Alias::new("target_id");
    let release_count = Alias::new("release_count");
    let counts = match Precomputed::of(criteria) {
        Some(counts) => match (kind.other)(&counts) {
            None => release_tag_day_count::Entity::find()
                .select_only()
                .column_as(release_tag_day_count::Column::TagId, "target_id")
                .column_as(
                    release_tag_day_count::Column::Releases.sum(),
                    "release_count",
                )
                .filter(release_tag_day_count::Column::Kind.eq(kind.count_kind))
                .filter(counts.dates(release_tag_day_count::Column::PublishedOn))
                .group_by(release_tag_day_count::Column::TagId)
                .into_query(),
            Some(other) => release_pair_day_count::Entity::find()
                .select_only()
                .column_as(kind.pair_own, "target_id")
                .column_as(
                    release_pair_day_count::Column::Releases.sum(),
                    "release_count",
                )
                .filter(kind.pair_other.eq(other))
                .filter(counts.dates(release_pair_day_count::Column::PublishedOn))
                .group_by(kind.pair_own)
                .into_query(),
        },
        None => {
            let mut counts = Query::select();
            counts
                .expr_as(Expr::col((kind.tags, kind.tag_target)), target_id.clone())
                .expr_as(
                    Expr::col((kind.tags, kind.tag_release)).count(),
                    release_count.clone(),
                )
                .from(kind.tags)
                .group_by_col((kind.tags, kind.tag_target));
            let condition = criteria.condition(backend, Scope::Archive)?;
            if !condition.is_empty() {
                let releases = release::Entity::find()
                    .select_only()
                    .column(release::Column::Id)
                    .filter(condition)
                    .into_query();
                counts.and_where(Expr::col((kind.tags, kind.tag_release)).in_subquery(releases));
            }
            counts
        }
    };
    let mut query = Query::select();
    query
        .columns(Target::Column::iter().map(|column| (kind.target, column)))
        .column((counted.clone(), release_count.clone()))
        .from(kind.target)
        .join_subquery(
            JoinType::InnerJoin,
            counts,
            counted.clone(),
            Expr::col((counted.clone(), target_id)).equals((kind.target, kind.target_id)),
        )
        .order_by((counted, release_count), Order::Desc)
        .order_by((kind.target, kind.target_name), Order::Asc)
        .order_by((kind.target, kind.target_slug), Order::Asc);
    db.query_all(&query)
        .await?
        .iter()
        .map(|row| {
            Ok((
                Target::Model::from_query_result(row, "")?,
                row.try_get("", "release_count")?,
            ))
        })
        .collect()
}
