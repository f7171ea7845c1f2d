//! Query strings of the site's documents, checked strictly: a parameter a document does not take
//! is an error rather than ignored, so that a typo (`programmes=` for `programme=`) is reported
//! instead of silently serving an unfiltered document. Every message names the parameter.

use chrono::NaiveDate;

use crate::schema::date::parse_iso_date;
use crate::store::search::SearchTooLong;

/// What is wrong with a query string, in words that say how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("unknown query parameter \"{name}\"{suggestion}: {accepted}")]
    UnknownParameter {
        name: String,
        /// ` (did you mean "…"?)` when a taken parameter is one `s` away, else empty.
        suggestion: String,
        /// What the document takes, e.g. "this page takes no parameters".
        accepted: &'static str,
    },
    #[error("`{parameter}` is given {times} times: give it once")]
    Repeated {
        parameter: &'static str,
        times: usize,
    },
    #[error("`{parameter}`: \"{value}\" is not a date: {why}")]
    NotADate {
        parameter: &'static str,
        value: String,
        /// What is wrong with it, in the words of the `Date` scalar's errors.
        why: String,
    },
    #[error(
        "`from` ({from}) is after `to` ({to}): swap them, or leave one out for an open-ended range"
    )]
    ReversedRange { from: NaiveDate, to: NaiveDate },
    #[error("`{parameter}`: unknown {parameter} \"{slug}\": {hint}")]
    UnknownSlug {
        parameter: &'static str,
        slug: String,
        hint: String,
    },
    #[error("`search`: {0}")]
    SearchTooLong(SearchTooLong),
    #[error("`{parameter}`: \"{value}\" is not {expected}")]
    Malformed {
        parameter: &'static str,
        value: String,
        expected: &'static str,
    },
    /// Anything else the API's own checks refuse, in the API's words.
    #[error("{0}")]
    Invalid(String),
}

/// A query string's parameters, in order, each checked against the names a document takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parameters {
    pairs: Vec<(String, String)>,
}

impl Parameters {
    /// The parameters of `raw` (the query string without `?`; `None` when the URL has none),
    /// percent- and `+`-decoded. A name outside `accepted` is an error whose message ends with
    /// `described` (what the document takes, in words).
    pub fn parse(
        raw: Option<&str>,
        accepted: &[&'static str],
        described: &'static str,
    ) -> Result<Parameters, QueryError> {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        if let Some((name, _)) = pairs
            .iter()
            .find(|(name, _)| !accepted.contains(&name.as_str()))
        {
            let suggestion = accepted
                .iter()
                .find(|known| {
                    name.strip_suffix('s') == Some(**known) || known.strip_suffix('s') == Some(name)
                })
                .map(|known| format!(" (did you mean \"{known}\"?)"))
                .unwrap_or_default();
            return Err(QueryError::UnknownParameter {
                name: name.clone(),
                suggestion,
                accepted: described,
            });
        }
        Ok(Parameters { pairs })
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .collect()
    }

    /// The value of `name`, which may be given at most once.
    pub fn one(&self, name: &'static str) -> Result<Option<String>, QueryError> {
        let mut values = self.all(name);
        match values.len() {
            0 | 1 => Ok(values.pop()),
            times => Err(QueryError::Repeated {
                parameter: name,
                times,
            }),
        }
    }

    /// The date in `name` (`YYYY-MM-DD`), given at most once.
    pub fn date(&self, name: &'static str) -> Result<Option<NaiveDate>, QueryError> {
        self.one(name)?
            .map(|value| {
                parse_iso_date(&value).map_err(|why| QueryError::NotADate {
                    parameter: name,
                    value,
                    why,
                })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAKES: &str = "it takes programme and from";

    fn parse(raw: &str) -> Result<Parameters, QueryError> {
        Parameters::parse(Some(raw), &["programme", "from"], TAKES)
    }

    #[test]
    fn unknown_names_are_refused_with_what_is_taken() {
        let error = parse("programmes=score").err().map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some(
                "unknown query parameter \"programmes\" (did you mean \"programme\"?): it takes programme and from"
            )
        );
        let error = parse("sort=new").err().map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("unknown query parameter \"sort\": it takes programme and from")
        );
    }

    #[test]
    fn values_are_decoded_and_repeats_counted() {
        let parameters = parse("programme=a%20b&programme=c+d&from=2021-06-24").unwrap();
        assert_eq!(parameters.all("programme"), ["a b", "c d"]);
        assert_eq!(
            parameters.date("from").unwrap(),
            NaiveDate::from_ymd_opt(2021, 6, 24)
        );
        assert_eq!(
            parameters.one("programme").err().map(|e| e.to_string()),
            Some("`programme` is given 2 times: give it once".to_owned())
        );
        assert_eq!(
            parse("from=2021-6-24")
                .unwrap()
                .date("from")
                .err()
                .map(|e| e.to_string()),
            Some(
                "`from`: \"2021-6-24\" is not a date: write it as YYYY-MM-DD, e.g. 2021-06-24"
                    .to_owned()
            )
        );
        assert_eq!(
            Parameters::parse(None, &[], TAKES).unwrap(),
            Parameters::default()
        );
    }
}
