//! The sitemap (sitemaps.org 0.9) and `robots.txt`. `/sitemap.xml` is an index of pages: one
//! with the home page and every programme's and office's page, then the releases in pages of
//! at most 50,000 in the order they were first stored (see `store::sitemap`). A releases page
//! is named by its first release (`/sitemap-releases.xml?start=<id>`; the first page needs no
//! name), so serving one never walks the releases before it, and a full page keeps its
//! address and releases while the archive grows: crawlers revisit only the pages whose
//! `lastmod` moved. Every page is at the root, since a sitemap may only list addresses at or
//! below its own folder.

use std::io;
use std::string::FromUtf8Error;

use chrono::{DateTime, SecondsFormat, Utc};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use uuid::Uuid;

use crate::site::links::Links;
use crate::store::{Store, StoreError};

/// The protocol's limit of addresses per sitemap.
pub const MAX_URLS: u64 = 50_000;

pub const INDEX_PATH: &str = "/sitemap.xml";
pub const CATALOGUE_PATH: &str = "/sitemap-catalogue.xml";
pub const RELEASES_PATH: &str = "/sitemap-releases.xml";
pub const ROBOTS_PATH: &str = "/robots.txt";
/// The parameter naming a releases page by its first release.
pub const START: &str = "start";

const NAMESPACE: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";

/// Why a sitemap document could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SitemapError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A bug: the writer only fails on I/O, and it writes to memory.
    #[error("cannot write the sitemap")]
    Write(#[from] io::Error),
    #[error("the sitemap's writer produced something other than UTF-8")]
    Utf8(#[from] FromUtf8Error),
}

/// A sitemap document and when the newest thing it lists changed, if it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub body: String,
    pub last_modified: Option<DateTime<Utc>>,
}

/// The sitemap, cut into pages of `page_size` releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sitemap {
    page_size: u64,
}

impl Default for Sitemap {
    fn default() -> Sitemap {
        Sitemap {
            page_size: MAX_URLS,
        }
    }
}

impl Sitemap {
    /// Pages of `page_size` releases (1 to [`MAX_URLS`]; out-of-range sizes are brought within):
    /// tests use small pages to have several without 50,000 releases.
    pub fn with_page_size(page_size: u64) -> Sitemap {
        Sitemap {
            page_size: page_size.clamp(1, MAX_URLS),
        }
    }

    pub fn page_size(self) -> u64 {
        self.page_size
    }

    /// The index: the catalogue's page, then every releases page with its newest change. One
    /// statement per releases page, each reading one page's range of the index.
    pub async fn index(self, store: &Store, links: &Links) -> Result<Rendered, SitemapError> {
        let mut pages = vec![(links.absolute(CATALOGUE_PATH), None)];
        let mut start = None;
        loop {
            let Some(bounds) = store.sitemap_page_bounds(start, self.page_size).await? else {
                break;
            };
            pages.push((releases_page_url(links, start), Some(bounds.last_modified)));
            match bounds.next_start {
                Some(next) => start = Some(next),
                None => break,
            }
        }
        let last_modified = pages.iter().filter_map(|(_, modified)| *modified).max();
        let mut writer = xml_writer()?;
        writer
            .create_element("sitemapindex")
            .with_attribute(("xmlns", NAMESPACE))
            .write_inner_content(|writer| {
                for (url, modified) in &pages {
                    writer
                        .create_element("sitemap")
                        .write_inner_content(|writer| location(writer, url, *modified))?;
                }
                Ok(())
            })?;
        Ok(Rendered {
            body: String::from_utf8(writer.into_inner())?,
            last_modified,
        })
    }

    /// The releases page starting at `start` (the first page when `None`); `None` when there is
    /// no such page: no release at all, or `start` is no release's id (any longer).
    pub async fn releases(
        self,
        store: &Store,
        links: &Links,
        start: Option<Uuid>,
    ) -> Result<Option<Rendered>, SitemapError> {
        let releases = store.sitemap_releases(start, self.page_size).await?;
        if releases.is_empty() {
            return Ok(None);
        }
        let last_modified = releases.iter().map(|release| release.updated_at).max();
        let urls = releases
            .iter()
            .map(|release| (links.release(&release.slug), Some(release.updated_at)));
        Ok(Some(Rendered {
            body: url_set(urls)?,
            last_modified,
        }))
    }

    /// The home page and every programme's and office's page.
    pub async fn catalogue(store: &Store, links: &Links) -> Result<Rendered, SitemapError> {
        let programmes = store.programmes().await?;
        let offices = store.offices().await?;
        let urls = std::iter::once(links.home())
            .chain(programmes.iter().map(|p| links.programme(&p.slug)))
            .chain(offices.iter().map(|o| links.office(&o.slug)))
            .map(|url| (url, None));
        Ok(Rendered {
            body: url_set(urls)?,
            last_modified: None,
        })
    }
}

/// `robots.txt`: every crawler may read everything, and the sitemap is at `links`' base.
pub fn robots(links: &Links) -> String {
    format!(
        "User-agent: *\nAllow: /\n\nSitemap: {}\n",
        links.absolute(INDEX_PATH)
    )
}

/// The address of the releases page starting at `start`.
pub fn releases_page_url(links: &Links, start: Option<Uuid>) -> String {
    match start {
        None => links.absolute(RELEASES_PATH),
        Some(start) => links.absolute(&format!("{RELEASES_PATH}?{START}={start}")),
    }
}

fn xml_writer() -> io::Result<Writer<Vec<u8>>> {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 1);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    Ok(writer)
}

/// A `<urlset>` of `urls` with their last change, if known.
fn url_set(
    urls: impl Iterator<Item = (String, Option<DateTime<Utc>>)>,
) -> Result<String, SitemapError> {
    let mut writer = xml_writer()?;
    writer
        .create_element("urlset")
        .with_attribute(("xmlns", NAMESPACE))
        .write_inner_content(|writer| {
            for (url, modified) in urls {
                writer
                    .create_element("url")
                    .write_inner_content(|writer| location(writer, &url, modified))?;
            }
            Ok(())
        })?;
    Ok(String::from_utf8(writer.into_inner())?)
}

/// `<loc>` and, when known, `<lastmod>` as a W3C datetime in UTC.
fn location(
    writer: &mut Writer<Vec<u8>>,
    url: &str,
    modified: Option<DateTime<Utc>>,
) -> io::Result<()> {
    writer
        .create_element("loc")
        .write_text_content(BytesText::new(url))?;
    if let Some(modified) = modified {
        writer
            .create_element("lastmod")
            .write_text_content(BytesText::new(
                &modified.to_rfc3339_opts(SecondsFormat::Secs, true),
            ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_stay_within_the_protocol() {
        assert_eq!(Sitemap::default().page_size(), MAX_URLS);
        assert_eq!(Sitemap::with_page_size(0).page_size(), 1);
        assert_eq!(Sitemap::with_page_size(80_000).page_size(), MAX_URLS);
    }

    #[test]
    fn robots_points_at_the_absolute_sitemap() {
        let links = Links::new("https://press.example.org".to_owned());
        assert_eq!(
            robots(&links),
            "User-agent: *\nAllow: /\n\nSitemap: https://press.example.org/sitemap.xml\n"
        );
    }

    #[test]
    fn addresses_are_escaped_and_dates_are_w3c_datetimes() {
        let modified = DateTime::from_timestamp(1_700_000_000, 0);
        let body =
            url_set([("https://press.example.org/a?b=1&c=2".to_owned(), modified)].into_iter())
                .unwrap();
        assert!(
            body.contains("<loc>https://press.example.org/a?b=1&amp;c=2</loc>"),
            "{body}"
        );
        assert!(
            body.contains("<lastmod>2023-11-14T22:13:20Z</lastmod>"),
            "{body}"
        );
        assert!(body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    }
}
