//! HTML pages for people and search engines: a release, a programme, an office, and the page
//! for an address that names nothing. Each is complete without JavaScript (the explorer's
//! `page.js` only enhances it), says what it is in its head (description, canonical link,
//! Open Graph and Twitter card tags, and for a release schema.org `NewsArticle` JSON-LD), and
//! links the others by their real addresses.

use askama::Template;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

use model::TagKind;
use model::entity::{office, programme, release};

use crate::site::links::{self, Links};
use crate::site::listing::{self, Listed};
use crate::store::criteria::Criteria;
use crate::store::related::DEFAULT_RELATED;
use crate::store::tags::TagSelection;
use crate::store::{Store, StoreError};

/// Releases listed on a programme's or office's page.
pub const LATEST_ON_PAGE: u64 = 20;
/// Longest meta description; search engines show about this much.
const DESCRIPTION_CHARS: usize = 160;

/// A rendered page and when what it shows last changed.
#[derive(Debug)]
pub struct Page {
    pub html: String,
    pub last_modified: Option<DateTime<Utc>>,
}

/// Why a page could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot render the page")]
    Render(#[from] askama::Error),
}

/// What every page says in its head.
#[derive(Debug)]
struct Head {
    title: String,
    description: String,
    canonical: Option<String>,
    og_type: &'static str,
    feeds: Vec<FeedLink>,
}

/// A feed a page advertises (`<link rel="alternate">`) and offers.
#[derive(Debug)]
struct FeedLink {
    media_type: &'static str,
    title: String,
    label: &'static str,
    href: String,
}

/// A programme or office as pages show it: linked, its acronym expanded.
#[derive(Debug)]
struct TagLink {
    path: String,
    name: String,
    acronym: Option<String>,
}

impl TagLink {
    fn programme(programme: &programme::Model) -> TagLink {
        TagLink {
            path: links::programme_path(&programme.slug),
            name: programme.name.clone(),
            acronym: programme.acronym.clone(),
        }
    }

    fn office(office: &office::Model) -> TagLink {
        TagLink {
            path: links::office_path(&office.slug),
            name: office.name.clone(),
            acronym: office.acronym.clone(),
        }
    }
}

/// Another release, linked.
#[derive(Debug)]
struct ReleaseLink {
    path: String,
    title: String,
    published_on: NaiveDate,
    published: String,
    summary: Option<String>,
}

impl ReleaseLink {
    fn of(release: &release::Model) -> ReleaseLink {
        ReleaseLink {
            path: links::release_path(&release.slug),
            title: release.title.clone(),
            published_on: release.published_on,
            published: long_date(release.published_on),
            summary: release.summary.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "release.html")]
struct ReleaseTemplate {
    head: Head,
    release: release::Model,
    published: String,
    modified: String,
    programmes: Vec<TagLink>,
    offices: Vec<TagLink>,
    related: Vec<ReleaseLink>,
    json_ld: String,
}

#[derive(Template)]
#[template(path = "collection.html")]
struct CollectionTemplate {
    head: Head,
    kind: &'static str,
    owner: TagLink,
    description: Option<String>,
    stats: String,
    linked_label: &'static str,
    linked: Vec<TagLink>,
    explorer: String,
    latest: Vec<ReleaseLink>,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessageTemplate {
    head: Head,
    heading: &'static str,
    text: &'static str,
    asked: Option<String>,
}

/// The page of the release `slug`, or `None` when there is none.
pub async fn release_page(
    store: &Store,
    links: &Links,
    slug: &str,
) -> Result<Option<Page>, PageError> {
    let both = TagSelection {
        programmes: true,
        offices: true,
    };
    let Some((release, tags)) = store.release_by_slug(slug, both).await? else {
        return Ok(None);
    };
    let related = store
        .related(
            release.id,
            &release.title,
            DEFAULT_RELATED.unsigned_abs().into(),
        )
        .await?;
    let ids = [release.id];
    // Embedded tags are only missing when their JSON could not be read: load those again.
    let programmes = match tags.programmes {
        Some(programmes) => programmes,
        None => store
            .programmes_of_releases(&ids)
            .await?
            .remove(&release.id)
            .unwrap_or_default(),
    };
    let offices = match tags.offices {
        Some(offices) => offices,
        None => store
            .offices_of_releases(&ids)
            .await?
            .remove(&release.id)
            .unwrap_or_default(),
    };
    let canonical = links.release(&release.slug);
    let description = describe(release.summary.as_deref().unwrap_or(&release.title));
    let json_ld = news_article(links, &release, &canonical, &programmes, &offices);
    let template = ReleaseTemplate {
        head: Head {
            title: release.title.clone(),
            description,
            canonical: Some(canonical),
            og_type: "article",
            feeds: feeds(links, "All press releases", None),
        },
        published: long_date(release.published_on),
        modified: release.updated_at.to_rfc3339(),
        programmes: programmes.iter().map(TagLink::programme).collect(),
        offices: offices.iter().map(TagLink::office).collect(),
        related: related.iter().map(ReleaseLink::of).collect(),
        json_ld,
        release,
    };
    Ok(Some(Page {
        last_modified: Some(template.release.updated_at),
        html: template.render()?,
    }))
}

/// The page of the programme `slug`, or `None` when there is none.
pub async fn programme_page(
    store: &Store,
    links: &Links,
    slug: &str,
) -> Result<Option<Page>, PageError> {
    let Some(programme) = store.programme_by_slug(slug).await? else {
        return Ok(None);
    };
    let criteria = Criteria {
        programme_ids: Some(vec![programme.id]),
        ..Criteria::default()
    };
    let ids = [programme.id];
    let (stats, offices, latest) = futures::try_join!(
        store.release_stats(TagKind::Programme, &ids),
        store.offices_of_programmes(&ids),
        listing::newest(store, &criteria, LATEST_ON_PAGE),
    )?;
    let owner = TagLink::programme(&programme);
    let collection = Collection {
        kind: TagKind::Programme,
        slug: &programme.slug,
        canonical: links.programme(&programme.slug),
        label: label(&owner),
        description: programme.description.clone(),
        owner,
        count: stats.get(&programme.id).map_or(0, |s| s.release_count),
        linked_label: "Run by",
        linked: offices
            .get(&programme.id)
            .map(|offices| offices.iter().map(TagLink::office).collect())
            .unwrap_or_default(),
        latest,
    };
    collection.render(links).map(Some)
}

/// The page of the office `slug`, or `None` when there is none.
pub async fn office_page(
    store: &Store,
    links: &Links,
    slug: &str,
) -> Result<Option<Page>, PageError> {
    let Some(office) = store.office_by_slug(slug).await? else {
        return Ok(None);
    };
    let criteria = Criteria {
        office_ids: Some(vec![office.id]),
        ..Criteria::default()
    };
    let ids = [office.id];
    let (stats, programmes, latest) = futures::try_join!(
        store.release_stats(TagKind::Office, &ids),
        store.programmes_of_offices(&ids),
        listing::newest(store, &criteria, LATEST_ON_PAGE),
    )?;
    let owner = TagLink::office(&office);
    let collection = Collection {
        kind: TagKind::Office,
        slug: &office.slug,
        canonical: links.office(&office.slug),
        label: label(&owner),
        description: office.description.clone(),
        owner,
        count: stats.get(&office.id).map_or(0, |s| s.release_count),
        linked_label: "Runs",
        linked: programmes
            .get(&office.id)
            .map(|programmes| programmes.iter().map(TagLink::programme).collect())
            .unwrap_or_default(),
        latest,
    };
    collection.render(links).map(Some)
}

/// The page for an address that names nothing (`asked` is the path, shown back).
pub fn not_found_page(asked: &str) -> Result<String, PageError> {
    Ok(MessageTemplate {
        head: message_head("Page not found"),
        heading: "No page at this address",
        text: "Nothing in the archive has this address: the link may be mistyped, or the release may have been removed.",
        asked: Some(asked.to_owned()),
    }
    .render()?)
}

/// The page shown when the archive cannot be read right now.
pub fn unavailable_page() -> Result<String, PageError> {
    Ok(MessageTemplate {
        head: message_head("Archive unavailable"),
        heading: "The archive is unavailable",
        text: "The archive cannot be read right now. Try again in a few seconds.",
        asked: None,
    }
    .render()?)
}

fn message_head(title: &str) -> Head {
    Head {
        title: title.to_owned(),
        description: "Press releases of the ILO Country Office for China and Mongolia.".to_owned(),
        canonical: None,
        og_type: "website",
        feeds: Vec::new(),
    }
}

/// A programme's or office's page before rendering.
struct Collection<'a> {
    kind: TagKind,
    slug: &'a str,
    canonical: String,
    label: String,
    description: Option<String>,
    owner: TagLink,
    count: i64,
    linked_label: &'static str,
    linked: Vec<TagLink>,
    latest: Vec<Listed>,
}

impl Collection<'_> {
    fn render(self, links: &Links) -> Result<Page, PageError> {
        let releases = match self.count {
            1 => "1 press release".to_owned(),
            n => format!("{n} press releases"),
        };
        let summary = self
            .description
            .clone()
            .unwrap_or_else(|| format!("{releases} about {}.", self.label));
        let (kind, parameter, fragment) = match self.kind {
            TagKind::Programme => ("Programme", "programme", "programmes"),
            TagKind::Office => ("Office", "office", "office"),
        };
        let filter = format!("{parameter}={}", self.slug);
        let last_modified = self
            .latest
            .iter()
            .map(|listed| listed.release.updated_at)
            .max();
        let template = CollectionTemplate {
            head: Head {
                title: format!("{} · press releases", self.label),
                description: describe(&summary),
                canonical: Some(self.canonical),
                og_type: "website",
                feeds: feeds(links, &self.label, Some(&filter)),
            },
            kind,
            stats: format!("{releases} in the archive."),
            description: self.description,
            owner: self.owner,
            linked_label: self.linked_label,
            linked: self.linked,
            explorer: format!("/#/?{fragment}={}", self.slug),
            latest: self
                .latest
                .iter()
                .map(|listed| ReleaseLink::of(&listed.release))
                .collect(),
        };
        Ok(Page {
            html: template.render()?,
            last_modified,
        })
    }
}

/// The feeds of the releases a page lists: `filter` is their query string, e.g. `programme=score`.
fn feeds(links: &Links, about: &str, filter: Option<&str>) -> Vec<FeedLink> {
    let query = filter
        .map(|filter| format!("?{filter}"))
        .unwrap_or_default();
    [
        ("application/atom+xml", "Atom feed", "atom"),
        ("application/rss+xml", "RSS feed", "rss"),
        ("application/feed+json", "JSON Feed", "json"),
    ]
    .into_iter()
    .map(|(media_type, label, extension)| FeedLink {
        media_type,
        title: format!("{about} ({label})"),
        label,
        href: links.absolute(&format!("/feeds/releases.{extension}{query}")),
    })
    .collect()
}

/// "SCORE (Sustaining Competitive and Responsible Enterprises)", or the name alone.
fn label(tag: &TagLink) -> String {
    match &tag.acronym {
        Some(acronym) => format!("{acronym} ({})", tag.name),
        None => tag.name.clone(),
    }
}

/// schema.org `NewsArticle` for `release`, as JSON safe inside a `<script>` block.
fn news_article(
    links: &Links,
    release: &release::Model,
    canonical: &str,
    programmes: &[programme::Model],
    offices: &[office::Model],
) -> String {
    let publisher = json!({
        "@type": "Organization",
        "name": "ILO Country Office for China and Mongolia",
        "url": links.home(),
    });
    let mut article = json!({
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": release.title,
        "datePublished": release.published_on.to_string(),
        "dateModified": release.updated_at.to_rfc3339(),
        "url": canonical,
        "mainEntityOfPage": canonical,
        "publisher": publisher.clone(),
        "author": publisher,
        "inLanguage": "en",
        "about": programmes.iter().map(|p| json!({"@type": "Thing", "name": p.name, "url": links.programme(&p.slug)})).collect::<Vec<_>>(),
        "sourceOrganization": offices.iter().map(|o| json!({"@type": "Organization", "name": o.name, "url": links.office(&o.slug)})).collect::<Vec<_>>(),
    });
    if let (Some(summary), Some(object)) = (&release.summary, article.as_object_mut()) {
        object.insert("description".to_owned(), json!(summary));
    }
    // `</script>` inside a string would end the block: no `<`, `>` or `&` is written raw.
    article
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// `text` cut at a word boundary to fit a meta description.
fn describe(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= DESCRIPTION_CHARS {
        return text;
    }
    let mut cut = String::new();
    for word in text.split(' ') {
        if cut.chars().count() + word.chars().count() + 2 > DESCRIPTION_CHARS {
            break;
        }
        if !cut.is_empty() {
            cut.push(' ');
        }
        cut.push_str(word);
    }
    cut.push('…');
    cut
}

/// "24 June 2021".
fn long_date(date: NaiveDate) -> String {
    date.format("%-d %B %Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_fit_and_end_on_a_word() {
        let long = "word ".repeat(100);
        let described = describe(&long);
        assert!(
            described.chars().count() <= DESCRIPTION_CHARS,
            "{described}"
        );
        assert!(described.ends_with("word…"), "{described}");
        assert_eq!(describe("  Short\n summary. "), "Short summary.");
    }

    #[test]
    fn unknown_addresses_are_escaped_on_their_page() {
        let page =
            not_found_page("/releases/<script>alert(1)</script>").unwrap_or_else(|e| panic!("{e}"));
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(
            page.contains("&#60;script&#62;") || page.contains("&lt;script&gt;"),
            "{page}"
        );
    }
}
