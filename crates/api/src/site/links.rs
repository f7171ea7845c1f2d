//! Where each document lives. Every absolute link the archive writes (canonical pages, Open
//! Graph, feed entries, sitemap locations) is made here, so that a page, its feed entry and its
//! sitemap entry always agree on one address.

/// Absolute links from one base URL (`scheme://host[:port][/path]`, no trailing slash).
#[derive(Debug, Clone)]
pub struct Links {
    base: String,
}

impl Links {
    pub fn new(base: String) -> Links {
        Links { base }
    }

    /// The base itself: where the explorer is.
    pub fn home(&self) -> String {
        format!("{}/", self.base)
    }

    /// Any path on the server, e.g. `/feeds/releases.atom`.
    pub fn absolute(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn release(&self, slug: &str) -> String {
        self.absolute(&release_path(slug))
    }

    pub fn programme(&self, slug: &str) -> String {
        self.absolute(&programme_path(slug))
    }

    pub fn office(&self, slug: &str) -> String {
        self.absolute(&office_path(slug))
    }
}

/// `/releases/<slug>`. Stored slugs are lowercase letters, digits and hyphens (see
/// `ingest::slug`); anything else is percent-encoded all the same, so no stored value can
/// break out of a link.
pub fn release_path(slug: &str) -> String {
    format!("/releases/{}", encode_segment(slug))
}

pub fn programme_path(slug: &str) -> String {
    format!("/programmes/{}", encode_segment(slug))
}

pub fn office_path(slug: &str) -> String {
    format!("/offices/{}", encode_segment(slug))
}

/// A path segment with every byte but unreserved ones percent-encoded (RFC 3986).
fn encode_segment(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_absolute_and_slugs_cannot_escape_them() {
        let links = Links::new("https://press.example.org".to_owned());
        assert_eq!(
            links.release("score-pilot"),
            "https://press.example.org/releases/score-pilot"
        );
        assert_eq!(links.home(), "https://press.example.org/");
        assert_eq!(release_path("a/b\"<c> d"), "/releases/a%2Fb%22%3Cc%3E%20d");
        assert_eq!(programme_path("dwcp"), "/programmes/dwcp");
        assert_eq!(office_path("beijing"), "/offices/beijing");
    }
}
