//! The `Date` scalar: a calendar date written `YYYY-MM-DD`. The contract names it `Date`;
//! async-graphql's own chrono scalar would be called `NaiveDate`.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{Datelike, NaiveDate};

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
        parse_iso_date(text).map(Date).map_err(|why| {
            InputValueError::custom(format!("\"{text}\" is not a date: {why}"))
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

/// `YYYY-MM-DD` exactly (chrono alone would also take `2021-6-4` or `+2021-06-04`), or what is
/// wrong with it, in words.
pub fn parse_iso_date(text: &str) -> Result<NaiveDate, String> {
    const SHAPE: &str = "write it as YYYY-MM-DD, e.g. 2021-06-24";
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    let number =
        |range: std::ops::Range<usize>| text.get(range).and_then(|s| s.parse::<u32>().ok());
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return Err(SHAPE.to_owned());
    };
    if !shaped {
        return Err(SHAPE.to_owned());
    }
    let year = i32::try_from(year).map_err(|_| SHAPE.to_owned())?;
    let Some(first) = NaiveDate::from_ymd_opt(year, month, 1) else {
        return Err(format!(
            "month {month:02} does not exist: use 01 (January) to 12 (December)"
        ));
    };
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| {
        let days = first
            .checked_add_months(chrono::Months::new(1))
            .and_then(|next| next.pred_opt())
            .map_or(31, |last| last.day());
        if day == 0 {
            format!(
                "day 00 does not exist: days start at 01 ({} has {days} days)",
                first.format("%B %Y")
            )
        } else {
            format!("{} has {days} days", first.format("%B %Y"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::parse_iso_date;

    #[test]
    fn only_complete_iso_dates_parse() {
        assert_eq!(
            parse_iso_date("2021-06-24").ok(),
            chrono::NaiveDate::from_ymd_opt(2021, 6, 24)
        );
        for bad in [
            "2021-6-24",
            "24 June 2021",
            "2021-06-24T00:00:00",
            "",
            "+2021-06-2",
        ] {
            assert_eq!(
                parse_iso_date(bad),
                Err("write it as YYYY-MM-DD, e.g. 2021-06-24".to_owned()),
                "{bad}"
            );
        }
    }

    #[test]
    fn impossible_dates_say_what_is_wrong() {
        let why = |text| parse_iso_date(text).err().unwrap_or_default();
        assert_eq!(why("2021-02-30"), "February 2021 has 28 days");
        assert_eq!(why("2020-02-30"), "February 2020 has 29 days");
        assert_eq!(why("2021-04-31"), "April 2021 has 30 days");
        assert_eq!(
            why("2021-13-01"),
            "month 13 does not exist: use 01 (January) to 12 (December)"
        );
        assert_eq!(
            why("2021-00-10"),
            "month 00 does not exist: use 01 (January) to 12 (December)"
        );
        assert_eq!(
            why("2021-01-00"),
            "day 00 does not exist: days start at 01 (January 2021 has 31 days)"
        );
    }
}
