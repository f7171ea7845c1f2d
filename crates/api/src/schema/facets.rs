//! `releaseFacets`: how many releases match a filter, by year, month, programme and office.
//!
//! Faceted-search rule: each facet applies every criterion of the filter except its own
//! dimension, so that choosing one programme still shows what choosing another would give;
//! `total` applies them all. `year` and `month` are one dimension for `years` (a month only
//! means something within its year); `months` drops only `month`. The date range
//! (`publishedFrom`/`publishedTo`), `search` and any other criterion apply to every facet.
//!
//! A request is a fixed number of statements whatever the number of buckets: one slug lookup
//! per kind named in the filter (as for `releases`), then three concurrent counts by the store
//! (`store::facets`): releases per publication day, with every criterion but `year`/`month`
//! (the days are folded into `years` here, those of the chosen year into `months`, and those of
//! the chosen year and month into `total`); releases per programme; releases per office.
//! With a search and the search index, all three come from one pass over the search's matches
//! (`store::search`), shared with the request's `releases` of the same search.

use std::collections::BTreeMap;

use async_graphql::{Context, SimpleObject};
use chrono::{Datelike, NaiveDate};

use model::TagKind;

use crate::error::ApiError;
use crate::schema::context::store;
use crate::schema::filter::ReleaseFilter;
use crate::schema::objects::{Office, Programme};
use crate::store::Store;
use crate::store::criteria::Criteria;

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
    count_facets(store(ctx)?, filter).await
}

/// The facets of `filter`: checked, its slugs resolved once, then the three counts at once.
pub async fn count_facets(
    store: &Store,
    filter: Option<ReleaseFilter>,
) -> Result<ReleaseFacets, ApiError> {
    let filter = filter.unwrap_or_default();
    let criteria = filter.resolve(store).await?;
    // `resolve` checked the dates against each other; without `year`/`month` they are the
    // whole date range.
    let days = Criteria {
        from: filter.published_from.map(|date| date.0),
        to: filter.published_to.map(|date| date.0),
        ..criteria.clone()
    };
    let programmes = criteria.without(TagKind::Programme);
    let offices = criteria.without(TagKind::Office);
    let (days, programmes, offices) =
        match store.searched_facets(&days, &programmes, &offices).await? {
            Some(searched) => (searched.days, searched.programmes, searched.offices),
            None => futures::try_join!(
                store.day_counts(&days),
                store.programme_counts(&programmes),
                store.office_counts(&offices),
            )?,
        };
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
