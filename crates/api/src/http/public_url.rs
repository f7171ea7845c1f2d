//! The base of the absolute links that pages, feeds and the sitemap carry: `--public-url` when
//! set, else `http://` and the request's own `Host`, so that a server reached at
//! `127.0.0.1:8000` links to itself without any configuration.

use axum::http::uri::Authority;
use axum::http::{HeaderMap, header};

/// Used when a request names no usable host (HTTP/1.0 without `Host`, or a malformed one).
const FALLBACK: &str = "http://localhost";

/// `scheme://host[:port][/path]` without a trailing slash.
/// `public_url` is the configured one (`AppState::public_url`), already checked at startup.
pub fn base_url(public_url: Option<&str>, headers: &HeaderMap) -> String {
    if let Some(url) = public_url {
        return url.to_owned();
    }
    headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        // Only a well-formed host and port: the value is written into every link of the page.
        .and_then(|host| host.parse::<Authority>().ok())
        .filter(|authority| !authority.as_str().contains('@'))
        .map_or_else(
            || FALLBACK.to_owned(),
            |authority| format!("http://{authority}"),
        )
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn host(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn the_public_url_wins_over_the_host_header() {
        assert_eq!(
            base_url(Some("https://press.example.org"), &host("127.0.0.1:8000")),
            "https://press.example.org"
        );
    }

    #[test]
    fn without_one_links_follow_the_host_and_refuse_junk() {
        assert_eq!(
            base_url(None, &host("127.0.0.1:8000")),
            "http://127.0.0.1:8000"
        );
        assert_eq!(base_url(None, &host("evil.org/\"><script>")), FALLBACK);
        assert_eq!(base_url(None, &host("user@evil.org")), FALLBACK);
        assert_eq!(base_url(None, &HeaderMap::new()), FALLBACK);
    }
}
