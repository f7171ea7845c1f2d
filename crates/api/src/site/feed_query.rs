//! The filters of a feed, from its query string: `programme` and `office` (each repeatable),
//! `from` and `to` (`YYYY-MM-DD`) and `search`. They mean what the same `ReleaseFilter` means
//! to the GraphQL API, and are checked by it (unknown slugs, a reversed range, a search too
//! long), with messages that name the query parameter instead of the GraphQL field.

use chrono::NaiveDate;
use model::TagKind;
use model::entity::{office, programme};

use crate::error::{ApiError, ErrorCode};
use crate::schema::date::Date;
use crate::schema::filter::ReleaseFilter;
use crate::site::query::{Parameters, QueryError};
use crate::store::Store;
use crate::store::criteria::Criteria;

/// The parameters a feed takes, in the order its canonical address lists them.
const PARAMETERS: [&str; 5] = ["programme", "office", "from", "to", "search"];
const DESCRIBED: &str = "the feeds take programme and office (each may be repeated), from and to (YYYY-MM-DD), and search";

/// A feed's filters as given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedQuery {
    pub programmes: Vec<String>,
    pub offices: Vec<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub search: Option<String>,
}

/// Why a feed cannot be made: its query, or the archive.
#[derive(Debug, thiserror::Error)]
pub enum FeedQueryError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error(transparent)]
    Archive(ApiError),
}

/// The resolved filters and the catalogue entries they name, for the feed's title.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub criteria: Criteria,
    pub programmes: Vec<programme::Model>,
    pub offices: Vec<office::Model>,
}

impl FeedQuery {
    /// The filters in `raw` (the query string, without `?`).
    pub fn parse(raw: Option<&str>) -> Result<FeedQuery, QueryError> {
        let parameters = Parameters::parse(raw, &PARAMETERS, DESCRIBED)?;
        Ok(FeedQuery {
            programmes: parameters.all("programme"),
            offices: parameters.all("office"),
            from: parameters.date("from")?,
            to: parameters.date("to")?,
            search: parameters.one("search")?,
        })
    }

    /// The API's `ReleaseFilter` with these filters.
    fn filter(&self) -> ReleaseFilter {
        let listed = |slugs: &Vec<String>| Some(slugs.clone()).filter(|slugs| !slugs.is_empty());
        ReleaseFilter {
            programmes: listed(&self.programmes),
            offices: listed(&self.offices),
            published_from: self.from.map(Date),
            published_to: self.to.map(Date),
            search: self.search.clone(),
            ..ReleaseFilter::default()
        }
    }

    /// Checks the filters as the API checks a `ReleaseFilter`, resolves their slugs, and reads
    /// the programmes and offices they name (for the title; only when they name any).
    pub async fn resolve(&self, store: &Store) -> Result<Resolved, FeedQueryError> {
        let criteria = self.filter().resolve(store).await.map_err(in_query_terms)?;
        let programmes = if self.programmes.is_empty() {
            Vec::new()
        } else {
            let every = store.programmes().await.map_err(archive)?;
            in_given_order(&self.programmes, every, |p| &p.slug)
        };
        let offices = if self.offices.is_empty() {
            Vec::new()
        } else {
            let every = store.offices().await.map_err(archive)?;
            in_given_order(&self.offices, every, |o| &o.slug)
        };
        Ok(Resolved {
            criteria,
            programmes,
            offices,
        })
    }

    /// The query string that gives these filters, in a fixed order (for the feed's own
    /// address); empty without filters.
    pub fn query_string(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for programme in &self.programmes {
            query.append_pair("programme", programme);
        }
        for office in &self.offices {
            query.append_pair("office", office);
        }
        self.append_common(&mut query, "search");
        query.finish()
    }

    /// The explorer's fragment for the same list (`#/?programmes=a,b&office=x&from=…&to=…&q=…`,
    /// see `assets/explorer/state.js`). The explorer shows one office at a time: with several,
    /// its list leaves the office out.
    pub fn explorer_fragment(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if !self.programmes.is_empty() {
            query.append_pair("programmes", &self.programmes.join(","));
        }
        if let [office] = self.offices.as_slice() {
            query.append_pair("office", office);
        }
        self.append_common(&mut query, "q");
        let query = query.finish();
        if query.is_empty() {
            "#/".to_owned()
        } else {
            format!("#/?{query}")
        }
    }

    fn append_common(
        &self,
        query: &mut form_urlencoded::Serializer<'_, String>,
        search_name: &str,
    ) {
        if let Some(from) = self.from {
            query.append_pair("from", &from.to_string());
        }
        if let Some(to) = self.to {
            query.append_pair("to", &to.to_string());
        }
        if let Some(search) = &self.search {
            query.append_pair(search_name, search);
        }
    }
}

/// `every` entry whose slug was asked for, in the order asked, each once.
fn in_given_order<T>(slugs: &[String], every: Vec<T>, slug_of: impl Fn(&T) -> &String) -> Vec<T> {
    let mut every: Vec<Option<T>> = every.into_iter().map(Some).collect();
    let mut found = Vec::new();
    for slug in slugs {
        if let Some(entry) = every
            .iter_mut()
            .find(|entry| entry.as_ref().is_some_and(|entry| slug_of(entry) == slug))
            .and_then(Option::take)
        {
            found.push(entry);
        }
    }
    found
}

fn archive(error: crate::store::StoreError) -> FeedQueryError {
    FeedQueryError::Archive(ApiError::from(error))
}

/// The API's refusal of the filter, in the feed's terms: the query parameter it comes from.
fn in_query_terms(error: ApiError) -> FeedQueryError {
    let query_error = match error {
        ApiError::UnknownSlug { kind, slug, hint } => QueryError::UnknownSlug {
            parameter: match kind {
                TagKind::Programme => "programme",
                TagKind::Office => "office",
            },
            slug,
            hint,
        },
        ApiError::ReversedDateRange { from, to } => QueryError::ReversedRange { from, to },
        ApiError::SearchTooLong(too_long) => QueryError::SearchTooLong(too_long),
        other if other.code() == ErrorCode::BadUserInput => QueryError::Invalid(other.to_string()),
        other => return FeedQueryError::Archive(other),
    };
    FeedQueryError::Query(query_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn filters_are_read_and_written_back_in_a_fixed_order() {
        let query = FeedQuery::parse(Some(
            "search=skills+%22social+security%22&office=beijing&programme=score&to=2021-12-31&programme=unjp&from=2017-01-01",
        ))
        .unwrap();
        assert_eq!(
            query,
            FeedQuery {
                programmes: vec!["score".to_owned(), "unjp".to_owned()],
                offices: vec!["beijing".to_owned()],
                from: date(2017, 1, 1),
                to: date(2021, 12, 31),
                search: Some("skills \"social security\"".to_owned()),
            }
        );
        assert_eq!(
            query.query_string(),
            "programme=score&programme=unjp&office=beijing&from=2017-01-01&to=2021-12-31&search=skills+%22social+security%22"
        );
        assert_eq!(
            query.explorer_fragment(),
            "#/?programmes=score%2Cunjp&office=beijing&from=2017-01-01&to=2021-12-31&q=skills+%22social+security%22"
        );
        assert_eq!(FeedQuery::default().explorer_fragment(), "#/");
        assert_eq!(FeedQuery::default().query_string(), "");
    }

    #[test]
    fn the_explorer_link_leaves_out_offices_it_cannot_show_together() {
        let query = FeedQuery::parse(Some("office=beijing&office=geneva")).unwrap();
        assert_eq!(query.explorer_fragment(), "#/");
    }

    #[test]
    fn the_apis_refusals_name_the_query_parameter() {
        let reversed = in_query_terms(ApiError::ReversedDateRange {
            from: NaiveDate::MAX,
            to: NaiveDate::MIN,
        });
        let message = reversed.to_string();
        assert!(message.starts_with("`from` ("), "{message}");
        assert!(!message.contains("publishedFrom"), "{message}");
        let unknown = in_query_terms(ApiError::UnknownSlug {
            kind: TagKind::Office,
            slug: "nowhere".to_owned(),
            hint: "use one of beijing, geneva".to_owned(),
        });
        assert_eq!(
            unknown.to_string(),
            "`office`: unknown office \"nowhere\": use one of beijing, geneva"
        );
    }
}
