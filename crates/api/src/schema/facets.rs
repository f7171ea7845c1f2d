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
//!   and month into `total`. A day is at most one row per date (~10,000 rows over 27 years), and
//!   grouping by the indexed date needs no per-row date arithmetic on either backend;
//! - tags per programme, counted straight from `release_programme` (criteria on other
//!   dimensions as semi-joins), joined to `programme` for the objects and the order;
//! - the same for offices from `release_office`.

use std::collections::BTreeMap;

use async_graphql::{Context, SimpleObject};
use chrono::{Datelike, NaiveDate};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Order, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    FromQueryResult, Iterable, QueryFilter, QuerySelect, QueryTrait,
};

use model::entity::{office, programme, release, release_office, release_programme};

use crate::error::ApiError;
use crate::schema::database;
use crate::schema::filter::{ReleaseFilter, Scope};
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
    let conditions = FacetConditions::new(db, &filter).await?;
    let (days, programmes, offices) = futures::try_join!(
        count_days(db, conditions.days),
        tag_counts(db, &PROGRAMMES, conditions.programmes),
        tag_counts(db, &OFFICES, conditions.offices),
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

/// The SQL condition on `release` of each count.
#[derive(Debug)]
struct FacetConditions {
    /// Every criterion but `year` and `month` (those are applied to the days in Rust).
    days: Condition,
    /// Every criterion but `programmes`.
    programmes: Condition,
    /// Every criterion but `offices`.
    offices: Condition,
}

impl FacetConditions {
    /// Builds the conditions from the parts `ReleaseFilter::to_condition` gives for partial
    /// filters: those without programmes and offices need no query (and check everything
    /// else, so a bad filter costs none); the programmes and the offices are each resolved
    /// once, concurrently. The parts are ANDed, as `to_condition` ANDs its criteria.
    async fn new(db: &DatabaseConnection, filter: &ReleaseFilter) -> Result<Self, ApiError> {
        let untagged = ReleaseFilter {
            programmes: None,
            offices: None,
            ..filter.clone()
        };
        let every_date = untagged.to_condition(db, Scope::Archive).await?;
        let without_period = ReleaseFilter {
            year: None,
            month: None,
            ..untagged
        }
        .to_condition(db, Scope::Archive)
        .await?;
        let only_programmes = ReleaseFilter {
            programmes: filter.programmes.clone(),
            ..ReleaseFilter::default()
        };
        let only_offices = ReleaseFilter {
            offices: filter.offices.clone(),
            ..ReleaseFilter::default()
        };
        let (programmes, offices) = futures::try_join!(
            only_programmes.to_condition(db, Scope::Archive),
            only_offices.to_condition(db, Scope::Archive),
        )?;
        Ok(FacetConditions {
            days: and([without_period, programmes.clone(), offices.clone()]),
            programmes: and([every_date.clone(), offices]),
            offices: and([every_date, programmes]),
        })
    }
}

/// The conjunction of `parts`, leaving out empty ones so that no filter means no WHERE.
fn and<const N: usize>(parts: [Condition; N]) -> Condition {
    parts
        .into_iter()
        .filter(|part| !part.is_empty())
        .fold(Condition::all(), Condition::add)
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

/// Releases per publication day: `SELECT published_on, COUNT(*) … GROUP BY published_on`.
async fn count_days(
    db: &DatabaseConnection,
    condition: Condition,
) -> Result<BTreeMap<NaiveDate, i64>, DbErr> {
    let rows: Vec<(NaiveDate, i64)> = release::Entity::find()
        .select_only()
        .column(release::Column::PublishedOn)
        .column_as(release::Column::Id.count(), "release_count")
        .filter(condition)
        .group_by(release::Column::PublishedOn)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
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

/// A kind of tag: the tag table and its columns, and the catalogue table it points to.
#[derive(Debug)]
struct TagKind<Tag: EntityTrait, Target: EntityTrait> {
    tags: Tag,
    tag_release: Tag::Column,
    tag_target: Tag::Column,
    target: Target,
    target_id: Target::Column,
    target_name: Target::Column,
    target_slug: Target::Column,
}

const PROGRAMMES: TagKind<release_programme::Entity, programme::Entity> = TagKind {
    tags: release_programme::Entity,
    tag_release: release_programme::Column::ReleaseId,
    tag_target: release_programme::Column::ProgrammeId,
    target: programme::Entity,
    target_id: programme::Column::Id,
    target_name: programme::Column::Name,
    target_slug: programme::Column::Slug,
};

const OFFICES: TagKind<release_office::Entity, office::Entity> = TagKind {
    tags: release_office::Entity,
    tag_release: release_office::Column::ReleaseId,
    tag_target: release_office::Column::OfficeId,
    target: office::Entity,
    target_id: office::Column::Id,
    target_name: office::Column::Name,
    target_slug: office::Column::Slug,
};

/// Releases per programme (or office), largest first, then by name and slug:
///
/// ```sql
/// SELECT programme.*, counted.release_count FROM programme
/// JOIN (SELECT programme_id AS target_id, COUNT(*) AS release_count FROM release_programme
///       [WHERE release_id IN (SELECT id FROM release WHERE <condition>)]
///       GROUP BY programme_id) AS counted ON counted.target_id = programme.id
/// ORDER BY counted.release_count DESC, programme.name, programme.slug
/// ```
///
/// The tags are counted before the join, so the catalogue is joined once per bucket.
async fn tag_counts<Tag, Target>(
    db: &DatabaseConnection,
    kind: &TagKind<Tag, Target>,
    condition: Condition,
) -> Result<Vec<(Target::Model, i64)>, DbErr>
where
    Tag: EntityTrait,
    Target: EntityTrait,
    Target::Model: FromQueryResult,
{
    let counted = Alias::new("counted");
    let target_id = Alias::new("target_id");
    let release_count = Alias::new("release_count");
    let mut counts = Query::select();
    counts
        .expr_as(Expr::col((kind.tags, kind.tag_target)), target_id.clone())
        .expr_as(
            Expr::col((kind.tags, kind.tag_release)).count(),
            release_count.clone(),
        )
        .from(kind.tags)
        .group_by_col((kind.tags, kind.tag_target));
    if !condition.is_empty() {
        let releases = release::Entity::find()
            .select_only()
            .column(release::Column::Id)
            .filter(condition)
            .into_query();
        counts.and_where(Expr::col((kind.tags, kind.tag_release)).in_subquery(releases));
    }
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
