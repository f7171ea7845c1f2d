//! Cursors as clients see them: opaque, URL-safe strings. A date cursor is
//! `base64("2021-06-24|<uuid>")`; a relevance cursor `base64("r|<rank bits>|2021-06-24|<uuid>")`,
//! the rank as the hex of its exact bits so it compares equal to itself on the next page. An
//! event cursor (a live subscription's) is `base64("e|<position in the change log>")`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use uuid::Uuid;

use crate::error::ApiError;
use crate::store::page::{Cursor, Position};

/// Marks a ranked cursor; a date cursor starts with a year, never with this.
const RANKED_CURSOR: &str = "r|";
/// Marks an event cursor.
const EVENT_CURSOR: &str = "e|";

/// Where a subscription's `after` points: just after a change, or after a release's last
/// change (a cursor from a `releases` list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamCursor {
    Event(i64),
    Release(Uuid),
}

/// The cursor of the event at `seq` in the change log.
pub fn encode_event(seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{EVENT_CURSOR}{seq}"))
}

/// Reads an event cursor, or any `releases` cursor, given as argument `argument`.
pub fn decode_stream(text: &str, argument: &'static str) -> Result<StreamCursor, ApiError> {
    let malformed = || ApiError::MalformedCursor { argument };
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| malformed())?;
    let plain = String::from_utf8(bytes).map_err(|_| malformed())?;
    match plain.strip_prefix(EVENT_CURSOR) {
        Some(seq) => seq
            .parse::<i64>()
            .ok()
            .filter(|seq| *seq >= 0)
            .map(StreamCursor::Event)
            .ok_or_else(malformed),
        None => decode(text, argument).map(|position| match position {
            Position::Dated(at) | Position::Ranked { at, .. } => StreamCursor::Release(at.id),
        }),
    }
}

pub fn encode(position: Position) -> String {
    match position {
        Position::Dated(at) => URL_SAFE_NO_PAD.encode(format!("{}|{}", at.published_on, at.id)),
        Position::Ranked { rank, at } => URL_SAFE_NO_PAD.encode(format!(
            "{RANKED_CURSOR}{:016x}|{}|{}",
            rank.to_bits(),
            at.published_on,
            at.id
        )),
    }
}

/// Reads a cursor of either kind given as argument `argument` (named in the error).
pub fn decode(text: &str, argument: &'static str) -> Result<Position, ApiError> {
    let malformed = || ApiError::MalformedCursor { argument };
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| malformed())?;
    let plain = String::from_utf8(bytes).map_err(|_| malformed())?;
    match plain.strip_prefix(RANKED_CURSOR) {
        None => parse(&plain).map(Position::Dated),
        Some(ranked) => ranked.split_once('|').and_then(|(bits, at)| {
            let rank = f64::from_bits(u64::from_str_radix(bits, 16).ok()?);
            Some(Position::Ranked {
                rank: rank.is_finite().then_some(rank)?,
                at: parse(at)?,
            })
        }),
    }
    .ok_or_else(malformed)
}

fn parse(plain: &str) -> Option<Cursor> {
    let (date, id) = plain.split_once('|')?;
    Some(Cursor {
        published_on: NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?,
        id: Uuid::try_parse(id).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_anything_else() {
        let at = Cursor {
            published_on: NaiveDate::from_ymd_opt(2021, 6, 24).unwrap(),
            id: Uuid::nil(),
        };
        let dated = Position::Dated(at);
        assert_eq!(decode(&encode(dated), "after").ok(), Some(dated));
        let plain = |text: &str| URL_SAFE_NO_PAD.encode(text);
        for bad in [
            "".to_owned(),
            "%%%".to_owned(),
            plain("2021-06-24"),
            plain("2021-13-01|00000000-0000-0000-0000-000000000000"),
            plain("2021-06-24|not-a-uuid"),
            plain("r|zz|2021-06-24|00000000-0000-0000-0000-000000000000"),
            plain("r|7ff0000000000000|2021-06-24|00000000-0000-0000-0000-000000000000"),
            plain("r|3fd3333333333334|2021-06-24"),
        ] {
            assert!(
                matches!(
                    decode(&bad, "after"),
                    Err(ApiError::MalformedCursor { argument: "after" })
                ),
                "{bad}"
            );
        }
        let ranked = Position::Ranked {
            rank: 0.1_f64 + 0.2_f64,
            at,
        };
        assert_eq!(decode(&encode(ranked), "before").ok(), Some(ranked));
    }

    #[test]
    fn a_subscription_takes_event_cursors_and_release_cursors() {
        assert_eq!(
            decode_stream(&encode_event(42), "after").ok(),
            Some(StreamCursor::Event(42))
        );
        let id = Uuid::from_u128(7);
        let at = Cursor {
            published_on: NaiveDate::from_ymd_opt(2021, 6, 24).unwrap(),
            id,
        };
        assert_eq!(
            decode_stream(&encode(Position::Dated(at)), "after").ok(),
            Some(StreamCursor::Release(id))
        );
        assert_eq!(
            decode_stream(&encode(Position::Ranked { rank: 0.5, at }), "after").ok(),
            Some(StreamCursor::Release(id))
        );
        for bad in ["e|", "e|-1", "e|x", "e|1|2"] {
            assert!(
                matches!(
                    decode_stream(&URL_SAFE_NO_PAD.encode(bad), "after"),
                    Err(ApiError::MalformedCursor { argument: "after" })
                ),
                "{bad}"
            );
        }
        assert!(
            decode(&encode_event(42), "after").is_err(),
            "an event cursor is no page cursor"
        );
    }
}
