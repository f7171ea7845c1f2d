//! The `Date` scalar: a calendar date written `YYYY-MM-DD`. The contract names it `Date`;
//! async-graphql's own chrono scalar would be called `NaiveDate`.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

use crate::error::ErrorCode;

/// A calendar date, as in `publishedOn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub NaiveDate);

impl From<NaiveDate> for Date {
    fn from(date: NaiveDate) -> Self {
        Date(date)
    }
}

/// An ISO 8601 calendar date, e.g. 2021-06-24.
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        let Value::String(text) = &value else {
            return Err(InputValueError::expected_type(value)
                .with_extension("code", ErrorCode::BadUserInput.as_str()));
        };
        parse_iso_date(text).map(Date).ok_or_else(|| {
            InputValueError::custom(format!(
                "\"{text}\" is not a date: write it as YYYY-MM-DD, e.g. 2021-06-24"
            ))
            .with_extension("code", ErrorCode::BadUserInput.as_str())
        })
    }

    // Only the kind of value is checked during validation, so that a malformed date reaches
    // `parse` and gets its explanatory message and code instead of a generic validation error.
    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(_))
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// `YYYY-MM-DD` exactly: chrono alone would also take `2021-6-4` or `+2021-06-04`.
pub(crate) fn parse_iso_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::parse_iso_date;

    #[test]
    fn only_complete_iso_dates_parse() {
        assert_eq!(
            parse_iso_date("2021-06-24"),
            chrono::NaiveDate::from_ymd_opt(2021, 6, 24)
        );
        for bad in [
            "2021-6-24",
            "2021-02-30",
            "24 June 2021",
            "2021-06-24T00:00:00",
            "",
        ] {
            assert_eq!(parse_iso_date(bad), None, "{bad}");
        }
    }
}
