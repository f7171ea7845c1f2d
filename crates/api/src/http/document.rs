//! Documents generated from the archive for people and their programs (release pages, feeds,
//! the sitemap), served with validators: a strong `ETag` from the exact bytes, and
//! `Last-Modified` when the document knows when its newest content changed. A repeated request
//! carrying either validator gets `304 Not Modified` and no body.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use crate::http::entity_tag::{entity_tag, if_none_match};

/// Browsers and feed readers keep a document but ask again each time; the `ETag` makes the
/// answer a 304 while nothing changed.
const REVALIDATE: &str = "no-cache";

/// A generated document and what it is.
#[derive(Debug)]
pub struct Document {
    pub status: StatusCode,
    pub content_type: &'static str,
    pub body: String,
    /// When the newest thing it shows last changed, if that is known.
    pub last_modified: Option<DateTime<Utc>>,
}

impl Document {
    /// A `200 OK` document.
    pub fn ok(content_type: &'static str, body: String) -> Document {
        Document {
            status: StatusCode::OK,
            content_type,
            body,
            last_modified: None,
        }
    }

    pub fn last_modified(mut self, at: Option<DateTime<Utc>>) -> Document {
        self.last_modified = at;
        self
    }

    pub fn status(mut self, status: StatusCode) -> Document {
        self.status = status;
        self
    }

    /// The response to a GET carrying `request` headers: 304 when the client's copy is current.
    pub fn respond(self, request: &HeaderMap) -> Response {
        let mut headers = HeaderMap::new();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(REVALIDATE));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if !self.status.is_success() {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(self.content_type),
            );
            return (self.status, headers, self.body).into_response();
        }
        let etag = entity_tag(self.body.as_bytes());
        if let Ok(value) = HeaderValue::from_str(&etag) {
            headers.insert(header::ETAG, value);
        }
        if let Some(value) = self
            .last_modified
            .and_then(|at| HeaderValue::from_str(&http_date(at)).ok())
        {
            headers.insert(header::LAST_MODIFIED, value);
        }
        if not_modified(request, &etag, self.last_modified) {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        (self.status, headers, self.body).into_response()
    }
}

/// RFC 9110's order: `If-None-Match` decides when present; `If-Modified-Since` only without it.
fn not_modified(request: &HeaderMap, etag: &str, last_modified: Option<DateTime<Utc>>) -> bool {
    if request.contains_key(header::IF_NONE_MATCH) {
        return if_none_match(request, etag);
    }
    let since = request
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| DateTime::parse_from_rfc2822(text).ok());
    match (since, last_modified) {
        // HTTP dates have whole seconds: compare at that precision.
        (Some(since), Some(modified)) => modified.timestamp() <= since.timestamp(),
        _ => false,
    }
}

/// An IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(seconds, 0).single().unwrap_or_default()
    }

    fn with(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            name,
            HeaderValue::from_str(value).unwrap_or_else(|e| panic!("{e}")),
        );
        headers
    }

    #[test]
    fn a_current_copy_gets_304_by_either_validator() {
        let modified = at(1_700_000_000);
        let document =
            || Document::ok("text/plain", "body".to_owned()).last_modified(Some(modified));
        let etag = entity_tag(b"body");
        assert_eq!(
            document().respond(&HeaderMap::new()).status(),
            StatusCode::OK
        );
        assert_eq!(
            document()
                .respond(&with(header::IF_NONE_MATCH, &etag))
                .status(),
            StatusCode::NOT_MODIFIED
        );
        assert_eq!(
            document()
                .respond(&with(header::IF_MODIFIED_SINCE, &http_date(modified)))
                .status(),
            StatusCode::NOT_MODIFIED
        );
        assert_eq!(
            document()
                .respond(&with(
                    header::IF_MODIFIED_SINCE,
                    &http_date(at(1_600_000_000))
                ))
                .status(),
            StatusCode::OK
        );
        // A stale ETag outweighs a current date.
        let mut both = with(header::IF_NONE_MATCH, "\"stale\"");
        both.insert(
            header::IF_MODIFIED_SINCE,
            HeaderValue::from_str(&http_date(modified)).unwrap_or_else(|e| panic!("{e}")),
        );
        assert_eq!(document().respond(&both).status(), StatusCode::OK);
    }

    #[test]
    fn dates_are_imf_fixdates() {
        assert_eq!(http_date(at(784_111_777)), "Sun, 06 Nov 1994 08:49:37 GMT");
    }
}
