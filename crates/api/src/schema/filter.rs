//! `ReleaseFilter`: the filter a client sends. It is checked (everything that needs no database
//! first, so a bad filter costs no query), its search parsed once, and its slugs resolved to
//! ids (one query per kind named): the store's `Criteria`.

use std::sync::Arc;

use async_graphql::InputObject;
use chrono::{Datelike, NaiveDate};

use model::TagKind;

use crate::error::ApiError;
use crate::schema::date::Date;
use crate::store::Store;
use crate::store::catalogue::Resolved;
use crate::store::criteria::Criteria;
use crate::store::search::SearchQuery;

/// Valid slugs are listed in the error message when there are at most this many.
const MAX_SLUGS_LISTED: usize = 20;

/// Which releases to include. Every criterion given must hold; omitted ones do not restrict.
#[derive(Debug, Default, Clone, InputObject)]
pub struct ReleaseFilter {
    /// Programme slugs: a release matches if it concerns any of them. Omitted or empty: any programme, or none.
    pub programmes: Option<Vec<String>>,
    /// Office slugs: a release matches if it concerns any of them. Omitted or empty: any office.
    pub offices: Option<Vec<String>>,
    /// Only releases published on or after this date.
    pub published_from: Option<Date>,
    /// Only releases published on or before this date.
    pub published_to: Option<Date>,
    /// Only releases published in this year, e.g. 2021.
    pub year: Option<i32>,
    /// Only releases published in this month of `year`: 1 (January) to 12 (December). Requires `year`.
    pub month: Option<i32>,
    /// Words to find in the title or summary (at most 500 characters), e.g. `herders`,
    /// `"social security" or pension -china`. A word found in the archive matches every word of
    /// the same stem ("herder" finds "Herders") and nothing else; otherwise the last word, the
    /// one being typed, from 3 letters matches the words it begins ("apprentice" finds
    /// "Apprenticeship"); otherwise a word of 5 letters or more matches the archive's words one
    /// edit away (two from 9 letters: "worksohp" finds "workshop"), and the list's
    /// `searchCorrections` says so. `"quoted words"` must appear together, as written; `or`
    /// separates alternatives; a leading `-` excludes a word or phrase, as written. Punctuation
    /// is ignored, and so are common words like "the" outside quotes; a text with nothing left
    /// to search for (e.g. only punctuation), or whose alternatives only exclude, matches no
    /// release. Order by `RELEVANCE` for the best matches first (BM25, title above summary),
    /// and select `Release.highlight` to show where they matched.
    pub search: Option<String>,
}

impl ReleaseFilter {
    /// Checks the filter (everything that needs no database first, so a bad filter costs no
    /// query), parses its search, then resolves its slugs: one query per kind named, both kinds
    /// at once.
    pub async fn resolve(&self, store: &Store) -> Result<Criteria, ApiError> {
        let (from, to) = self.date_range()?;
        let search = self
            .search
            .as_deref()
            .map(SearchQuery::parse)
            .transpose()?
            .map(Arc::new);
        let ids = |kind: TagKind| async move {
            let slugs = match kind {
                TagKind::Programme => self.programmes.as_deref(),
                TagKind::Office => self.offices.as_deref(),
            };
            match slugs.filter(|slugs| !slugs.is_empty()) {
                None => Ok(None),
                Some(slugs) => match store.resolve_slugs(kind, slugs).await? {
                    Resolved::Ids(ids) => Ok(Some(ids)),
                    Resolved::Unknown { unknown, valid } => {
                        Err(unknown_slug(kind, &unknown, &valid))
                    }
                },
            }
        };
        // Both run to the end, so that an unknown programme is reported before an unknown
        // office whichever lookup finishes first.
        let (programme_ids, office_ids) =
            futures::join!(ids(TagKind::Programme), ids(TagKind::Office));
        Ok(Criteria {
            from,
            to,
            programme_ids: programme_ids?,
            office_ids: office_ids?,
            search,
        })
    }

    /// The inclusive date bounds implied by `publishedFrom`/`publishedTo` and `year`/`month`.
    pub(crate) fn date_range(&self) -> Result<(Option<NaiveDate>, Option<NaiveDate>), ApiError> {
        let from = self.published_from.map(|date| date.0);
        let to = self.published_to.map(|date| date.0);
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Err(ApiError::ReversedDateRange { from, to });
        }
        let period = match (self.year, self.month) {
            (None, None) => None,
            (None, Some(_)) => return Err(ApiError::MonthWithoutYear),
            (Some(year), month) => Some(calendar_period(year, month)?),
        };
        Ok(match period {
            None => (from, to),
            // Both limits apply: the range is their intersection, possibly empty.
            Some((first_day, last_day)) => (
                // `Ord::` because sea-query's `ExprTrait` has a `max` and `min` of its own.
                Some(from.map_or(first_day, |from| Ord::max(from, first_day))),
                Some(to.map_or(last_day, |to| Ord::min(to, last_day))),
            ),
        })
    }
}

/// First and last day of `year`, or of `month` in `year`.
fn calendar_period(year: i32, month: Option<i32>) -> Result<(NaiveDate, NaiveDate), ApiError> {
    if !(1..=9999).contains(&year) {
        return Err(ApiError::YearOutOfRange(year));
    }
    let (first_month, last_month) = match month {
        None => (1, 12),
        Some(month) => {
            let month = u32::try_from(month)
                .ok()
                .filter(|m| (1..=12).contains(m))
                .ok_or(ApiError::MonthOutOfRange(month))?;
            (month, month)
        }
    };
    let first_day =
        NaiveDate::from_ymd_opt(year, first_month, 1).ok_or(ApiError::YearOutOfRange(year))?;
    let last_day = NaiveDate::from_ymd_opt(year, last_month, 1)
        .and_then(|day| day.checked_add_months(chrono::Months::new(1)))
        .and_then(|next_month| next_month.pred_opt())
        // 9999-12: the month after is beyond chrono's range, but the last day is known.
        .or_else(|| NaiveDate::from_ymd_opt(year, 12, 31).filter(|_| last_month == 12))
        .ok_or(ApiError::YearOutOfRange(year))?;
    debug_assert_eq!(last_day.month(), last_month);
    Ok((first_day, last_day))
}

fn unknown_slug(kind: TagKind, slug: &str, valid: &[String]) -> ApiError {
    let query = kind.plural();
    let hint = if valid.is_empty() {
        format!("the archive has no {query} yet")
    } else if valid.len() <= MAX_SLUGS_LISTED {
        format!("use one of {}", valid.join(", "))
    } else {
        format!("query `{query} {{ slug }}` for the valid slugs")
    };
    ApiError::UnknownSlug {
        kind,
        slug: slug.to_owned(),
        hint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn year_and_month_become_date_ranges() {
        assert_eq!(
            calendar_period(2020, Some(2)).ok(),
            Some((date(2020, 2, 1), date(2020, 2, 29)))
        );
        assert_eq!(
            calendar_period(2021, None).ok(),
            Some((date(2021, 1, 1), date(2021, 12, 31)))
        );
        assert_eq!(
            calendar_period(9999, Some(12)).ok(),
            Some((date(9999, 12, 1), date(9999, 12, 31)))
        );
        assert!(matches!(
            calendar_period(2021, Some(13)),
            Err(ApiError::MonthOutOfRange(13))
        ));
        assert!(matches!(
            calendar_period(2021, Some(0)),
            Err(ApiError::MonthOutOfRange(0))
        ));
        assert!(matches!(
            calendar_period(0, None),
            Err(ApiError::YearOutOfRange(0))
        ));
    }

    #[test]
    fn explicit_dates_and_periods_intersect() {
        let filter = ReleaseFilter {
            published_from: Some(Date(date(2021, 3, 15))),
            year: Some(2021),
            month: Some(3),
            ..ReleaseFilter::default()
        };
        assert_eq!(
            filter.date_range().ok(),
            Some((Some(date(2021, 3, 15)), Some(date(2021, 3, 31))))
        );
        let reversed = ReleaseFilter {
            published_from: Some(Date(date(2021, 3, 15))),
            published_to: Some(Date(date(2021, 3, 14))),
            ..ReleaseFilter::default()
        };
        assert!(matches!(
            reversed.date_range(),
            Err(ApiError::ReversedDateRange { .. })
        ));
        let month_only = ReleaseFilter {
            month: Some(3),
            ..ReleaseFilter::default()
        };
        assert!(matches!(
            month_only.date_range(),
            Err(ApiError::MonthWithoutYear)
        ));
    }
}
