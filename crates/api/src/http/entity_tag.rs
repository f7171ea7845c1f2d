//! HTTP validators for conditional GETs: a strong `ETag` from the exact bytes of a response, and
//! the `If-None-Match` check that turns a repeated request into `304 Not Modified`.

use axum::http::{HeaderMap, header};
use sha2::{Digest, Sha256};

/// A strong entity tag for `body`: it changes exactly when the bytes do.
pub fn entity_tag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("\"{hex}\"")
}

/// Whether `If-None-Match` names `etag` or `*` (weak comparison, as RFC 9110 asks for GET).
pub fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == etag)
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};

    use super::{entity_tag, if_none_match};

    #[test]
    fn a_listed_or_weak_or_wildcard_tag_matches() {
        let etag = entity_tag(b"{\"data\":{}}");
        assert_ne!(etag, entity_tag(b"{\"data\":null}"));
        let mut headers = HeaderMap::new();
        assert!(!if_none_match(&headers, &etag));
        let listed = format!("\"other\", W/{etag}");
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(&listed).unwrap_or_else(|e| panic!("{e}")),
        );
        assert!(if_none_match(&headers, &etag));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(if_none_match(&headers, &etag));
    }
}
