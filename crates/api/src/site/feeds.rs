//! The feeds of the newest releases, optionally filtered (see `feed_query`): Atom (written by
//! `atom_syndication`), RSS 2.0 (by `rss`) and JSON Feed 1.1 (serde). All three carry the same
//! entries with the same facts: title, the release's page, a lifelong id (`urn:uuid:<id>`),
//! publication date, last change, summary, programmes and offices as categories, image credit.

use std::string::FromUtf8Error;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::site::feed_query::{FeedQuery, FeedQueryError, Resolved};
use crate::site::links::Links;
use crate::site::listing::{Listed, newest};
use crate::store::Store;

/// How many releases a feed lists, newest first: readers poll often, so a feed only needs
/// what is new since the last poll, and 50 covers weeks of the archive's pace.
pub const FEED_ENTRIES: u64 = 50;

/// Who the feeds say wrote them (Atom requires an author).
const AUTHOR: &str = "International Labour Organization";

/// The language of the releases.
const LANGUAGE: &str = "en";

/// Where the categories of each kind live: the programme and office pages are below them.
const PROGRAMME_SCHEME: &str = "/programmes/";
const OFFICE_SCHEME: &str = "/offices/";

/// The three formats of one feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedFormat {
    Atom,
    Rss,
    JsonFeed,
}

impl FeedFormat {
    pub const ALL: [FeedFormat; 3] = [FeedFormat::Atom, FeedFormat::Rss, FeedFormat::JsonFeed];

    /// Where the server serves it.
    pub const fn path(self) -> &'static str {
        match self {
            FeedFormat::Atom => "/feeds/releases.atom",
            FeedFormat::Rss => "/feeds/releases.rss",
            FeedFormat::JsonFeed => "/feeds/releases.json",
        }
    }

    pub const fn content_type(self) -> &'static str {
        match self {
            FeedFormat::Atom => "application/atom+xml",
            FeedFormat::Rss => "application/rss+xml",
            FeedFormat::JsonFeed => "application/feed+json",
        }
    }
}

/// A feed could not be written (a bug: the writers only fail on I/O, and they write to memory).
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot write the Atom feed")]
    Atom(#[from] atom_syndication::Error),
    #[error("cannot write the RSS feed")]
    Rss(#[from] rss::Error),
    #[error("cannot write the JSON feed")]
    Json(#[from] serde_json::Error),
    #[error("the feed's writer produced something other than UTF-8")]
    Utf8(#[from] FromUtf8Error),
}

/// One feed, read and ready to be written in any format.
#[derive(Debug, Clone)]
pub struct Feed {
    pub format: FeedFormat,
    /// "Press releases", then what is filtered, e.g. "Press releases · SCORE · 2021-01-01 to
    /// 2021-12-31".
    pub title: String,
    /// The feed's own address, its filters in a fixed order.
    pub self_url: String,
    /// The explorer showing the same list.
    pub alternate_url: String,
    pub entries: Vec<Listed>,
    links: Links,
}

impl Feed {
    /// The newest releases matching `query`, as `format` at the addresses of `links`.
    pub async fn read(
        store: &Store,
        links: Links,
        format: FeedFormat,
        query: &FeedQuery,
    ) -> Result<Feed, FeedQueryError> {
        let resolved = query.resolve(store).await?;
        let entries = newest(store, &resolved.criteria, FEED_ENTRIES)
            .await
            .map_err(|error| FeedQueryError::Archive(error.into()))?;
        let filters = query.query_string();
        let self_path = if filters.is_empty() {
            format.path().to_owned()
        } else {
            format!("{}?{filters}", format.path())
        };
        Ok(Feed {
            format,
            title: title(query, &resolved),
            self_url: links.absolute(&self_path),
            alternate_url: format!("{}{}", links.home(), query.explorer_fragment()),
            entries,
            links,
        })
    }

    /// When the most recently changed entry changed; `None` for an empty feed.
    pub fn updated(&self) -> Option<DateTime<Utc>> {
        self.entries
            .iter()
            .map(|entry| entry.release.updated_at)
            .max()
    }

    /// The feed in its format.
    pub fn render(&self) -> Result<String, RenderError> {
        match self.format {
            FeedFormat::Atom => self.atom(),
            FeedFormat::Rss => self.rss(),
            FeedFormat::JsonFeed => self.json_feed(),
        }
    }

    fn description(&self) -> String {
        format!("The newest press releases of the archive (at most {FEED_ENTRIES}), newest first.")
    }

    fn categories(&self, entry: &Listed) -> Vec<Category> {
        let programmes = entry.programmes.iter().map(|programme| Category {
            term: programme.slug.clone(),
            label: programme
                .acronym
                .clone()
                .unwrap_or_else(|| programme.name.clone()),
            scheme: self.links.absolute(PROGRAMME_SCHEME),
        });
        let offices = entry.offices.iter().map(|office| Category {
            term: office.slug.clone(),
            label: office.name.clone(),
            scheme: self.links.absolute(OFFICE_SCHEME),
        });
        programmes.chain(offices).collect()
    }

    fn atom(&self) -> Result<String, RenderError> {
        use atom_syndication::{Entry, Link, Person, Text};

        let link = |href: &str, rel: &str, mime_type: &str| Link {
            href: href.to_owned(),
            rel: rel.to_owned(),
            mime_type: Some(mime_type.to_owned()),
            ..Link::default()
        };
        let entries = self
            .entries
            .iter()
            .map(|entry| {
                let release = &entry.release;
                Entry {
                    title: Text::plain(release.title.clone()),
                    id: entry_id(entry),
                    updated: release.updated_at.fixed_offset(),
                    published: Some(midnight(release.published_on).fixed_offset()),
                    links: vec![link(
                        &self.links.release(&release.slug),
                        "alternate",
                        "text/html",
                    )],
                    summary: release.summary.clone().map(Text::plain),
                    rights: release.image_credit.clone().map(Text::plain),
                    categories: self
                        .categories(entry)
                        .into_iter()
                        .map(|category| atom_syndication::Category {
                            term: category.term,
                            scheme: Some(category.scheme),
                            label: Some(category.label),
                        })
                        .collect(),
                    ..Entry::default()
                }
            })
            .collect();
        let feed = atom_syndication::Feed {
            title: Text::plain(self.title.clone()),
            id: self.self_url.clone(),
            // An empty feed has nothing newer than the epoch to report (Atom requires a date).
            updated: self.updated().unwrap_or_default().fixed_offset(),
            authors: vec![Person {
                name: AUTHOR.to_owned(),
                ..Person::default()
            }],
            links: vec![
                link(&self.self_url, "self", FeedFormat::Atom.content_type()),
                link(&self.alternate_url, "alternate", "text/html"),
            ],
            subtitle: Some(Text::plain(self.description())),
            lang: Some(LANGUAGE.to_owned()),
            entries,
            ..atom_syndication::Feed::default()
        };
        Ok(String::from_utf8(feed.write_to(Vec::new())?)?)
    }

    fn rss(&self) -> Result<String, RenderError> {
        use rss::extension::atom::AtomExtension;
        use rss::extension::dublincore::DublinCoreExtension;
        use rss::{Channel, Guid, Item};

        let items = self
            .entries
            .iter()
            .map(|entry| {
                let release = &entry.release;
                Item {
                    title: Some(release.title.clone()),
                    link: Some(self.links.release(&release.slug)),
                    description: release.summary.clone(),
                    guid: Some(Guid {
                        value: entry_id(entry),
                        permalink: false,
                    }),
                    pub_date: Some(midnight(release.published_on).to_rfc2822()),
                    categories: self
                        .categories(entry)
                        .into_iter()
                        .map(|category| rss::Category {
                            name: category.label,
                            domain: Some(category.scheme),
                        })
                        .collect(),
                    dublin_core_ext: release.image_credit.clone().map(|credit| {
                        DublinCoreExtension {
                            rights: vec![credit],
                            ..DublinCoreExtension::default()
                        }
                    }),
                    ..Item::default()
                }
            })
            .collect();
        let channel = Channel {
            title: self.title.clone(),
            link: self.alternate_url.clone(),
            description: self.description(),
            language: Some(LANGUAGE.to_owned()),
            last_build_date: self.updated().map(|updated| updated.to_rfc2822()),
            atom_ext: Some(AtomExtension {
                links: vec![atom_syndication::Link {
                    href: self.self_url.clone(),
                    rel: "self".to_owned(),
                    mime_type: Some(FeedFormat::Rss.content_type().to_owned()),
                    ..atom_syndication::Link::default()
                }],
            }),
            items,
            ..Channel::default()
        };
        Ok(String::from_utf8(channel.write_to(Vec::new())?)?)
    }

    fn json_feed(&self) -> Result<String, RenderError> {
        let items = self
            .entries
            .iter()
            .map(|entry| {
                let release = &entry.release;
                JsonItem {
                    id: entry_id(entry),
                    url: self.links.release(&release.slug),
                    title: &release.title,
                    // JSON Feed requires content: the summary, or the title without one.
                    content_text: release.summary.as_deref().unwrap_or(&release.title),
                    summary: release.summary.as_deref(),
                    date_published: midnight(release.published_on).to_rfc3339(),
                    date_modified: release.updated_at.to_rfc3339(),
                    tags: self
                        .categories(entry)
                        .into_iter()
                        .map(|category| category.label)
                        .collect(),
                    extension: release
                        .image_credit
                        .as_deref()
                        .map(|image_credit| JsonItemExtension { image_credit }),
                }
            })
            .collect();
        let feed = JsonFeed {
            version: "https://jsonfeed.org/version/1.1",
            title: &self.title,
            home_page_url: &self.alternate_url,
            feed_url: &self.self_url,
            description: self.description(),
            language: LANGUAGE,
            authors: vec![JsonAuthor { name: AUTHOR }],
            items,
        };
        Ok(serde_json::to_string_pretty(&feed)?)
    }
}

/// A programme or office as a category of an entry.
struct Category {
    /// The slug.
    term: String,
    /// What readers show: a programme's acronym (else name), an office's name.
    label: String,
    /// Where the pages of its kind live.
    scheme: String,
}

/// A release's id for life, whichever its title or address becomes.
fn entry_id(entry: &Listed) -> String {
    format!("urn:uuid:{}", entry.release.id)
}

/// A publication date as a time: the start of its day in UTC.
fn midnight(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// "Press releases", then the filters in a few words, `·`-separated.
fn title(query: &FeedQuery, resolved: &Resolved) -> String {
    let mut parts = vec!["Press releases".to_owned()];
    let programmes: Vec<String> = resolved
        .programmes
        .iter()
        .map(|p| p.acronym.clone().unwrap_or_else(|| p.name.clone()))
        .collect();
    if !programmes.is_empty() {
        parts.push(listed(&programmes));
    }
    let offices: Vec<String> = resolved.offices.iter().map(|o| o.name.clone()).collect();
    if !offices.is_empty() {
        parts.push(listed(&offices));
    }
    match (query.from, query.to) {
        (Some(from), Some(to)) => parts.push(format!("{from} to {to}")),
        (Some(from), None) => parts.push(format!("from {from}")),
        (None, Some(to)) => parts.push(format!("until {to}")),
        (None, None) => {}
    }
    if let Some(search) = &query.search {
        parts.push(format!("“{}”", search.trim()));
    }
    parts.join(" · ")
}

/// "A", "A and B", "A, B and C".
fn listed(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [first @ .., last] => format!("{} and {last}", first.join(", ")),
    }
}

#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: &'a str,
    feed_url: &'a str,
    description: String,
    language: &'static str,
    authors: Vec<JsonAuthor>,
    items: Vec<JsonItem<'a>>,
}

#[derive(Serialize)]
struct JsonAuthor {
    name: &'static str,
}

#[derive(Serialize)]
struct JsonItem<'a> {
    id: String,
    url: String,
    title: &'a str,
    content_text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a str>,
    date_published: String,
    date_modified: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    /// JSON Feed's extensions are objects whose names start with `_`.
    #[serde(rename = "_pressroom", skip_serializing_if = "Option::is_none")]
    extension: Option<JsonItemExtension<'a>>,
}

#[derive(Serialize)]
struct JsonItemExtension<'a> {
    image_credit: &'a str,
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use model::entity::{programme, release};
    use uuid::Uuid;

    use super::*;

    fn feed(format: FeedFormat, entries: Vec<Listed>) -> Feed {
        Feed {
            format,
            title: "Press releases · SCORE".to_owned(),
            self_url: "https://press.example.org/feeds/releases.atom?programme=score".to_owned(),
            alternate_url: "https://press.example.org/#/?programmes=score".to_owned(),
            entries,
            links: Links::new("https://press.example.org".to_owned()),
        }
    }

    fn entry() -> Listed {
        let at = Utc
            .with_ymd_and_hms(2021, 7, 1, 8, 30, 0)
            .single()
            .unwrap_or_default();
        Listed {
            release: release::Model {
                id: Uuid::nil(),
                slug: "score-pilot".to_owned(),
                title: "SCORE <pilot> & more".to_owned(),
                published_on: NaiveDate::from_ymd_opt(2021, 6, 24).unwrap_or_default(),
                summary: Some("Factories train managers.".to_owned()),
                image_credit: Some("© ILO/A. Photographer".to_owned()),
                source_file: "listing.txt".to_owned(),
                source_line: 3,
                created_at: at,
                updated_at: at,
            },
            programmes: vec![programme::Model {
                id: 1,
                slug: "score".to_owned(),
                name: "Sustaining Competitive and Responsible Enterprises".to_owned(),
                acronym: Some("SCORE".to_owned()),
                description: None,
            }],
            offices: Vec::new(),
        }
    }

    #[test]
    fn every_format_reads_back_with_its_entry() {
        let atom = feed(FeedFormat::Atom, vec![entry()]).render().unwrap();
        let parsed: atom_syndication::Feed = atom.parse().unwrap();
        let parsed_entry = &parsed.entries[0];
        assert_eq!(parsed_entry.title.value, "SCORE <pilot> & more");
        assert_eq!(
            parsed_entry.links[0].href,
            "https://press.example.org/releases/score-pilot"
        );
        assert_eq!(
            parsed_entry.id,
            "urn:uuid:00000000-0000-0000-0000-000000000000"
        );
        assert_eq!(parsed_entry.categories[0].term, "score");
        assert_eq!(
            parsed_entry.rights.as_ref().map(|r| r.value.as_str()),
            Some("© ILO/A. Photographer")
        );
        assert_eq!(parsed.updated.to_rfc3339(), "2021-07-01T08:30:00+00:00");

        let rss = feed(FeedFormat::Rss, vec![entry()]).render().unwrap();
        let channel: rss::Channel = rss.parse().unwrap();
        assert_eq!(
            channel.items[0].title.as_deref(),
            Some("SCORE <pilot> & more")
        );
        assert_eq!(
            channel.items[0].pub_date.as_deref(),
            Some("Thu, 24 Jun 2021 00:00:00 +0000")
        );
        assert_eq!(channel.items[0].categories[0].name, "SCORE");

        let json = feed(FeedFormat::JsonFeed, vec![entry()]).render().unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            value["items"][0]["date_published"],
            "2021-06-24T00:00:00+00:00"
        );
        assert_eq!(
            value["items"][0]["_pressroom"]["image_credit"],
            "© ILO/A. Photographer"
        );
    }

    #[test]
    fn an_empty_feed_is_still_a_feed() {
        for format in FeedFormat::ALL {
            let empty = feed(format, Vec::new());
            assert_eq!(empty.updated(), None);
            let text = empty.render().unwrap();
            assert!(
                text.contains("Press releases · SCORE"),
                "{format:?}: {text}"
            );
        }
    }

    #[test]
    fn names_are_listed_in_words() {
        let names = |list: &[&str]| list.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        assert_eq!(listed(&names(&["A"])), "A");
        assert_eq!(listed(&names(&["A", "B"])), "A and B");
        assert_eq!(listed(&names(&["A", "B", "C"])), "A, B and C");
    }
}
