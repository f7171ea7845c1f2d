//! The feeds, the sitemap and `robots.txt` as feed readers and crawlers meet them, over real
//! HTTP on PostgreSQL and SQLite: a feed lists what the GraphQL API lists for the same filter,
//! revalidates with `ETag` and `Last-Modified`, refuses bad parameters by name; the sitemap lists
//! every release exactly once over its pages, and its full pages keep their releases while the
//! archive grows. Real parsers read the feeds (feedparser, feed-extractor) and the sitemaps.org
//! schemas validate the sitemap (`clients/feeds.py`, `clients/feeds.mjs`).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::Stdio;
use std::str::FromStr;
use std::time::Duration;

use api::AppState;
use chrono::{DateTime, SecondsFormat, Utc};
use integration_tests::app::{TestApp, load_listings, spawn_app_with_state};
use integration_tests::clients::{clients_dir, ensure_installed};
use integration_tests::python::python;
use integration_tests::{Backend, TestDatabase, both_backends, seeds_dir, stored_slugs};
use model::entity::release;
use reqwest::StatusCode;
use reqwest::header::{
    CONTENT_TYPE, ETAG, HeaderMap, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED,
};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use uuid::Uuid;

/// How many releases a feed lists (`api::site::feeds::FEED_ENTRIES`).
const FEED_ENTRIES: usize = 50;

/// Longer than either client needs on a loaded 2-core machine, short enough to end a hung one.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(180);

/// The three feeds and what their parsers call them.
const FORMATS: [(&str, &str); 3] = [
    ("/feeds/releases.atom", "atom10"),
    ("/feeds/releases.rss", "rss20"),
    ("/feeds/releases.json", "json11"),
];

/// A filter that matches no release.
const EMPTY: &str = "from=1990-01-01&to=1990-12-31";

/// Feed query strings and the `ReleaseFilter` that means the same.
fn filter_cases() -> Vec<(&'static str, Value)> {
    vec![
        ("", Value::Null),
        ("programme=score", json!({ "programmes": ["score"] })),
        (
            "programme=score&programme=healthwise",
            json!({ "programmes": ["score", "healthwise"] }),
        ),
        ("office=geneva", json!({ "offices": ["geneva"] })),
        (
            "office=geneva&office=bangkok",
            json!({ "offices": ["geneva", "bangkok"] }),
        ),
        (
            "from=2010-01-01&to=2020-12-31",
            json!({ "publishedFrom": "2010-01-01", "publishedTo": "2020-12-31" }),
        ),
        ("search=employment", json!({ "search": "employment" })),
        (
            "programme=score&office=beijing&from=2016-01-01&search=score+-healthwise",
            json!({
                "programmes": ["score"],
                "offices": ["beijing"],
                "publishedFrom": "2016-01-01",
                "search": "score -healthwise",
            }),
        ),
        // Nothing matches: an empty feed.
        (
            EMPTY,
            json!({ "publishedFrom": "1990-01-01", "publishedTo": "1990-12-31" }),
        ),
    ]
}

/// A server over `backend` with the seed listings and `generated` generated releases, sitemap
/// pages of `page_size`.
async fn archive(backend: Backend, generated: u64, page_size: u64) -> (TestDatabase, TestApp) {
    let database = TestDatabase::new(backend).await;
    let db = database.connect().await;
    load_listings(&db, &[seeds_dir()]).await;
    if generated > 0 {
        let corpus = generate(generated, 7);
        load_listings(&db, &[corpus.path().to_path_buf()]).await;
    }
    let state = AppState::new(db).with_sitemap_page_size(page_size);
    let app = spawn_app_with_state(state).await;
    (database, app)
}

/// `releases` generated releases (seed `seed`) in a temporary folder.
fn generate(releases: u64, seed: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    ingest::generate::generate(&ingest::generate::GenerateOptions {
        releases,
        seed,
        out: dir.path().to_path_buf(),
        releases_per_file: 100,
    })
    .expect("releases are generated");
    dir
}

/// What the API lists first for `filter`: (slug, title), newest first, and how many match.
async fn api_list(app: &TestApp, filter: &Value) -> (Vec<(String, String)>, u64) {
    let data = app
        .data(
            "query($filter: ReleaseFilter, $first: Int) {
               releases(filter: $filter, first: $first) { totalCount nodes { slug title } }
             }",
            json!({ "filter": filter, "first": FEED_ENTRIES }),
        )
        .await;
    let nodes = data["releases"]["nodes"]
        .as_array()
        .expect("a list of releases");
    let listed = nodes
        .iter()
        .map(|node| {
            (
                node["slug"].as_str().unwrap_or_default().to_owned(),
                node["title"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    (listed, data["releases"]["totalCount"].as_u64().unwrap_or(0))
}

/// An entry as any format shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    id: String,
    title: String,
    link: String,
}

/// A feed read back with the Rust parsers of its format (serde for JSON Feed).
#[derive(Debug)]
struct ReadFeed {
    title: String,
    self_link: String,
    alternate_link: String,
    entries: Vec<Entry>,
}

fn read_feed(path: &str, body: &str) -> ReadFeed {
    if path.contains(".atom") {
        let feed = atom_syndication::Feed::from_str(body).expect("the Atom feed parses");
        let link = |rel: &str| {
            feed.links
                .iter()
                .find(|link| link.rel == rel)
                .map(|link| link.href.clone())
                .unwrap_or_default()
        };
        ReadFeed {
            title: feed.title.value.clone(),
            self_link: link("self"),
            alternate_link: link("alternate"),
            entries: feed
                .entries
                .iter()
                .map(|entry| Entry {
                    id: entry.id.clone(),
                    title: entry.title.value.clone(),
                    link: entry
                        .links
                        .first()
                        .map(|l| l.href.clone())
                        .unwrap_or_default(),
                })
                .collect(),
        }
    } else if path.contains(".rss") {
        let channel = rss::Channel::from_str(body).expect("the RSS feed parses");
        ReadFeed {
            title: channel.title.clone(),
            self_link: channel
                .atom_ext
                .as_ref()
                .and_then(|atom| atom.links.first())
                .map(|l| l.href.clone())
                .unwrap_or_default(),
            alternate_link: channel.link.clone(),
            entries: channel
                .items
                .iter()
                .map(|item| Entry {
                    id: item
                        .guid
                        .as_ref()
                        .map(|g| g.value.clone())
                        .unwrap_or_default(),
                    title: item.title.clone().unwrap_or_default(),
                    link: item.link.clone().unwrap_or_default(),
                })
                .collect(),
        }
    } else {
        let feed: Value = serde_json::from_str(body).expect("the JSON feed parses");
        assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
        let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
        ReadFeed {
            title: text(&feed["title"]),
            self_link: text(&feed["feed_url"]),
            alternate_link: text(&feed["home_page_url"]),
            entries: feed["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|item| Entry {
                    id: text(&item["id"]),
                    title: text(&item["title"]),
                    link: text(&item["url"]),
                })
                .collect(),
        }
    }
}

fn header(headers: &HeaderMap, name: impl reqwest::header::AsHeaderName) -> String {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// GET `path`, which must answer 200: its headers and body.
async fn get_ok(app: &TestApp, path: &str) -> (HeaderMap, String) {
    let response = app.get(path).await;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.expect("a body");
    assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
    (headers, body)
}

/// Every feed format, for every filter, lists the releases the API lists for the same filter,
/// in the same order, at most 50, each linking to its page with its id for life.
async fn feeds_list_what_the_api_lists(backend: Backend) {
    let (_database, app) = archive(backend, 150, 50).await;
    let ids_of: HashMap<String, Uuid> = stored_slugs(&app.db)
        .await
        .into_iter()
        .map(|(id, slug)| (slug, id))
        .collect();
    for (query, filter) in filter_cases() {
        let (expected, total) = api_list(&app, &filter).await;
        assert_eq!(
            expected.len() as u64,
            total.min(FEED_ENTRIES as u64),
            "{query}"
        );
        assert_eq!(
            expected.is_empty(),
            query == EMPTY,
            "{query} lists something"
        );
        for (path, _) in FORMATS {
            let url = if query.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{query}")
            };
            let (response, body) = get_ok(&app, &url).await;
            let content_type = header(&response, CONTENT_TYPE);
            let feed = read_feed(path, &body);
            let seen: Vec<(String, String)> = feed
                .entries
                .iter()
                .map(|entry| {
                    let slug = entry
                        .link
                        .strip_prefix(&app.url("/releases/"))
                        .unwrap_or_else(|| panic!("{url}: entry link {}", entry.link));
                    (slug.to_owned(), entry.title.clone())
                })
                .collect();
            assert_eq!(seen, expected, "{url} lists what the API lists");
            for entry in &feed.entries {
                let slug = entry.link.rsplit('/').next().unwrap_or_default();
                assert_eq!(entry.id, format!("urn:uuid:{}", ids_of[slug]), "{url}");
            }
            assert_eq!(feed.self_link, app.url(&url), "{url}: its own address");
            assert!(
                feed.alternate_link.starts_with(&app.url("/#/")),
                "{url}: the explorer: {}",
                feed.alternate_link
            );
            let expected_type = match path {
                p if p.ends_with(".atom") => "application/atom+xml",
                p if p.ends_with(".rss") => "application/rss+xml",
                _ => "application/feed+json",
            };
            assert_eq!(content_type, expected_type, "{url}");
            if query.is_empty() {
                assert!(
                    total > FEED_ENTRIES as u64,
                    "the archive is larger than a feed"
                );
                assert_eq!(feed.title, "Press releases");
            }
            if query == "programme=score&programme=healthwise" {
                assert_eq!(feed.title, "Press releases · SCORE and HealthWISE", "{url}");
                assert_eq!(
                    feed.alternate_link,
                    app.url("/#/?programmes=score%2Chealthwise")
                );
            }
            if query.starts_with("from=2010") {
                assert_eq!(feed.title, "Press releases · 2010-01-01 to 2020-12-31");
            }
        }
    }
}

/// A feed reader's second request is a 304 by either validator, until the feed changes; an
/// empty feed is still a feed, without a date to revalidate by.
async fn feeds_revalidate(backend: Backend) {
    let (_database, app) = archive(backend, 0, 50).await;
    let path = "/feeds/releases.atom?programme=score";
    let (first, body) = get_ok(&app, path).await;
    let etag = header(&first, ETAG);
    let last_modified = header(&first, LAST_MODIFIED);
    assert!(etag.starts_with('"'), "a strong ETag: {etag}");
    let feed = atom_syndication::Feed::from_str(&body).expect("the Atom feed parses");
    // Last-Modified is the feed's `updated`: the newest change among its entries.
    let newest: DateTime<Utc> = release::Entity::find()
        .all(&app.db)
        .await
        .expect("releases")
        .into_iter()
        .filter(|r| {
            feed.entries
                .iter()
                .any(|e| e.id == format!("urn:uuid:{}", r.id))
        })
        .map(|r| r.updated_at)
        .max()
        .expect("the feed has entries");
    assert_eq!(feed.updated.timestamp(), newest.timestamp());
    assert_eq!(
        last_modified,
        newest.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
    );

    for (name, value) in [
        (IF_NONE_MATCH, etag.clone()),
        (IF_MODIFIED_SINCE, last_modified),
    ] {
        let again = app
            .client
            .get(app.url(path))
            .header(name.clone(), &value)
            .send()
            .await
            .expect("GET");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{name}: {value}");
        assert_eq!(header(again.headers(), ETAG), etag);
        assert!(again.text().await.unwrap_or_default().is_empty());
    }
    let older = app
        .client
        .get(app.url(path))
        .header(IF_MODIFIED_SINCE, "Mon, 01 Jan 2001 00:00:00 GMT")
        .send()
        .await
        .expect("GET");
    assert_eq!(older.status(), StatusCode::OK);
    // Another filter is another document.
    let (other, _) = get_ok(&app, "/feeds/releases.atom?programme=healthwise").await;
    assert_ne!(header(&other, ETAG), etag);

    for (format, _) in FORMATS {
        let path = format!("{format}?{EMPTY}");
        let (response, body) = get_ok(&app, &path).await;
        assert!(read_feed(&path, &body).entries.is_empty(), "{path}");
        assert!(header(&response, LAST_MODIFIED).is_empty(), "{path}");
        assert!(!header(&response, ETAG).is_empty(), "{path}");
    }
}

/// A bad query string is a 400 whose plain-text message names the parameter and says what to
/// do; the API refuses the same filter by the same rule.
async fn bad_feed_parameters_are_named(backend: Backend) {
    let (_database, app) = archive(backend, 0, 50).await;
    let too_long = "a".repeat(501);
    let cases: Vec<(String, Vec<&str>, Option<Value>)> = vec![
        (
            "programmes=score".to_owned(),
            vec![
                "unknown query parameter \"programmes\"",
                "did you mean \"programme\"?",
                "programme and office",
                "search",
            ],
            None,
        ),
        (
            "from=2021-02-30".to_owned(),
            vec!["`from`: \"2021-02-30\" is not a date: February 2021 has 28 days"],
            None,
        ),
        (
            "to=yesterday".to_owned(),
            vec!["`to`: \"yesterday\" is not a date: write it as YYYY-MM-DD"],
            None,
        ),
        (
            "from=2021-06-01&to=2021-01-01".to_owned(),
            vec![
                "`from` (2021-06-01) is after `to` (2021-01-01)",
                "swap them",
            ],
            Some(json!({ "publishedFrom": "2021-06-01", "publishedTo": "2021-01-01" })),
        ),
        (
            "programme=score&programme=nope".to_owned(),
            vec![
                "`programme`: unknown programme \"nope\"",
                "score",
                "healthwise",
            ],
            Some(json!({ "programmes": ["score", "nope"] })),
        ),
        (
            "office=atlantis".to_owned(),
            vec!["`office`: unknown office \"atlantis\"", "beijing"],
            Some(json!({ "offices": ["atlantis"] })),
        ),
        (
            format!("search={too_long}"),
            vec!["`search`", "501 characters", "at most 500"],
            Some(json!({ "search": too_long })),
        ),
        (
            "search=a&search=b".to_owned(),
            vec!["`search` is given 2 times"],
            None,
        ),
    ];
    for (query, phrases, filter) in cases {
        let response = app.get(&format!("/feeds/releases.rss?{query}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(
            header(response.headers(), CONTENT_TYPE),
            "text/plain; charset=utf-8"
        );
        let message = response.text().await.expect("a message");
        for phrase in phrases {
            assert!(message.contains(phrase), "{query}: {message}");
        }
        assert!(!message.contains("publishedFrom"), "{query}: {message}");
        if let Some(filter) = filter {
            let body = app
                .graphql(
                    "query($f: ReleaseFilter) { releases(filter: $f) { totalCount } }",
                    json!({ "f": filter }),
                )
                .await;
            assert_eq!(
                body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
                "the API refuses {query} too: {body}"
            );
        }
    }
}

/// The sitemap's pages of `page_size`: the index's release pages, each page's release slugs
/// with their `lastmod`, and the bodies by address.
struct SitemapRead {
    pages: Vec<String>,
    releases: Vec<Vec<(String, String)>>,
    bodies: BTreeMap<String, String>,
}

/// `<loc>` and `<lastmod>` of each `<url>` or `<sitemap>` in `body`, in order.
fn locations(body: &str) -> Vec<(String, Option<String>)> {
    let element = |text: &str, name: &str| {
        let open = format!("<{name}>");
        let start = text.find(&open)? + open.len();
        let end = text[start..].find(&format!("</{name}>"))? + start;
        Some(text[start..end].replace("&amp;", "&"))
    };
    body.split("<loc>")
        .skip(1)
        .map(|rest| {
            let item = format!("<loc>{}", rest.split("</url>").next().unwrap_or(rest));
            let item = item.split("</sitemap>").next().unwrap_or(&item).to_owned();
            (
                element(&item, "loc").unwrap_or_default(),
                element(&item, "lastmod"),
            )
        })
        .collect()
}

async fn read_sitemap(app: &TestApp) -> SitemapRead {
    let (_, index) = get_ok(app, "/sitemap.xml").await;
    let entries = locations(&index);
    assert_eq!(
        entries.first().map(|(loc, _)| loc.as_str()),
        Some(app.url("/sitemap-catalogue.xml").as_str())
    );
    let mut read = SitemapRead {
        pages: Vec::new(),
        releases: Vec::new(),
        bodies: BTreeMap::new(),
    };
    for (page, lastmod) in entries.into_iter().skip(1) {
        let path = page
            .strip_prefix(&app.base_url)
            .expect("a page on this server")
            .to_owned();
        let (_, body) = get_ok(app, &path).await;
        let releases: Vec<(String, String)> = locations(&body)
            .into_iter()
            .map(|(loc, modified)| {
                let slug = loc
                    .strip_prefix(&app.url("/releases/"))
                    .unwrap_or_else(|| panic!("{loc} is a release page"));
                (
                    slug.to_owned(),
                    modified.expect("every release has a lastmod"),
                )
            })
            .collect();
        let newest = releases.iter().map(|(_, m)| m.clone()).max();
        assert_eq!(lastmod, newest, "{page}: the index's lastmod is its newest");
        read.pages.push(page.clone());
        read.releases.push(releases);
        read.bodies.insert(page, body);
    }
    read
}

/// With pages of 7, the index lists ceil(n / 7) release pages; every release is on exactly one,
/// with its last change as `lastmod`; the catalogue page lists the home, programme and office
/// pages; `robots.txt` names the sitemap; pages revalidate.
async fn sitemap_lists_every_release_once(backend: Backend) {
    let (_database, app) = archive(backend, 0, 7).await;
    let stored = release::Entity::find()
        .all(&app.db)
        .await
        .expect("releases");
    let read = read_sitemap(&app).await;
    assert_eq!(read.pages.len(), stored.len().div_ceil(7));
    assert!(read.releases.iter().all(|page| page.len() <= 7));
    assert_eq!(read.pages[0], app.url("/sitemap-releases.xml"));
    let mut listed: Vec<(String, String)> = read.releases.concat();
    listed.sort();
    let mut expected: Vec<(String, String)> = stored
        .iter()
        .map(|r| {
            (
                r.slug.clone(),
                r.updated_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            )
        })
        .collect();
    expected.sort();
    assert_eq!(listed, expected, "every release once, with its last change");

    let (_, catalogue) = get_ok(&app, "/sitemap-catalogue.xml").await;
    let data = app
        .data("{ programmes { slug } offices { slug } }", json!({}))
        .await;
    let mut wanted = vec![app.url("/")];
    for (kind, path) in [("programmes", "/programmes/"), ("offices", "/offices/")] {
        for entry in data[kind].as_array().expect("a list") {
            wanted.push(app.url(&format!("{path}{}", entry["slug"].as_str().unwrap_or(""))));
        }
    }
    let mut pages: Vec<String> = locations(&catalogue).into_iter().map(|(l, _)| l).collect();
    pages.sort();
    wanted.sort();
    assert_eq!(pages, wanted);

    let (robots, text) = get_ok(&app, "/robots.txt").await;
    assert!(header(&robots, CONTENT_TYPE).starts_with("text/plain"));
    assert!(text.contains("User-agent: *\nAllow: /"), "{text}");
    assert!(
        text.contains(&format!("Sitemap: {}", app.url("/sitemap.xml"))),
        "{text}"
    );

    let last = read.pages.last().expect("a page").clone();
    let path = last.strip_prefix(&app.base_url).unwrap_or_default();
    let (page, _) = get_ok(&app, path).await;
    let again = app
        .client
        .get(&last)
        .header(IF_NONE_MATCH, header(&page, ETAG))
        .send()
        .await
        .expect("GET");
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let (index, _) = get_ok(&app, "/sitemap.xml").await;
    assert!(!header(&index, LAST_MODIFIED).is_empty());
    let again = app
        .client
        .get(app.url("/sitemap.xml"))
        .header(IF_MODIFIED_SINCE, header(&index, LAST_MODIFIED))
        .send()
        .await
        .expect("GET");
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    for (query, status, phrase) in [
        (
            "start=42",
            StatusCode::BAD_REQUEST,
            "`start`: \"42\" is not a release id",
        ),
        (
            "page=2",
            StatusCode::BAD_REQUEST,
            "unknown query parameter \"page\"",
        ),
        (
            "start=00000000-0000-0000-0000-000000000000",
            StatusCode::NOT_FOUND,
            "read /sitemap.xml",
        ),
    ] {
        let response = app.get(&format!("/sitemap-releases.xml?{query}")).await;
        assert_eq!(response.status(), status, "{query}");
        let message = response.text().await.unwrap_or_default();
        assert!(message.contains(phrase), "{query}: {message}");
    }
}

/// Crawlers revisit pages by address: when releases are added, every page that was full keeps
/// its address and exactly its releases, and the new releases come after them.
async fn full_sitemap_pages_stay_as_releases_arrive(backend: Backend) {
    let (_database, app) = archive(backend, 0, 7).await;
    let before = read_sitemap(&app).await;
    let full = before
        .releases
        .iter()
        .filter(|page| page.len() == 7)
        .count();
    assert!(full >= 2, "several full pages to compare");
    let corpus = generate(12, 11);
    load_listings(&app.db, &[corpus.path().to_path_buf()]).await;
    let after = read_sitemap(&app).await;
    let stored = stored_slugs(&app.db).await.len();
    assert_eq!(after.pages.len(), stored.div_ceil(7));
    for (page, releases) in before.pages.iter().zip(&before.releases).take(full) {
        assert_eq!(after.bodies.get(page), before.bodies.get(page), "{page}");
        assert_eq!(releases.len(), 7);
    }
    let new: Vec<&(String, String)> = after.releases.iter().skip(full).flatten().collect();
    assert_eq!(
        new.len(),
        stored - full * 7,
        "everything else is after the full pages"
    );
}

/// With `--public-url`, every link the feeds, the sitemap and `robots.txt` write starts with it,
/// whatever `Host` the request names.
async fn links_follow_the_public_url(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let db = database.connect().await;
    load_listings(&db, &[seeds_dir()]).await;
    let state = AppState::new(db)
        .with_public_url(Some("https://press.example.org/archive/"))
        .expect("a valid public URL");
    let app = spawn_app_with_state(state).await;
    let (_, robots) = get_ok(&app, "/robots.txt").await;
    assert!(robots.contains("Sitemap: https://press.example.org/archive/sitemap.xml"));
    let (_, index) = get_ok(&app, "/sitemap.xml").await;
    assert!(
        locations(&index)
            .iter()
            .all(|(loc, _)| loc.starts_with("https://press.example.org/archive/sitemap-")),
        "{index}"
    );
    let (_, body) = get_ok(&app, "/feeds/releases.atom").await;
    let feed = read_feed("/feeds/releases.atom", &body);
    assert_eq!(
        feed.self_link,
        "https://press.example.org/archive/feeds/releases.atom"
    );
    assert!(feed.entries.iter().all(|e| {
        e.link
            .starts_with("https://press.example.org/archive/releases/")
    }));
}

both_backends!(
    feeds_list_what_the_api_lists,
    feeds_revalidate,
    bad_feed_parameters_are_named,
    sitemap_lists_every_release_once,
    full_sitemap_pages_stay_as_releases_arrive,
    links_follow_the_public_url,
);

/// Runs `program script base expected` from `clients/`; its stdout, or a panic with its output.
async fn run_client(program: &PathBuf, script: &str, base: &str, expected: &PathBuf) -> String {
    let dir = clients_dir();
    let mut command = tokio::process::Command::new(program);
    command
        .arg(dir.join(script))
        .arg(base)
        .arg(expected)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(CLIENT_TIMEOUT, command.output())
        .await
        .unwrap_or_else(|_| panic!("{script} ran longer than {CLIENT_TIMEOUT:?}"))
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    println!("$ {script}\n{stdout}");
    assert!(
        output.status.success(),
        "{script} exited with {}\n--- stdout ---\n{stdout}\n--- stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// feedparser (Python) and feed-extractor (Node) read every feed without a parse error and see
/// the entries the API lists; the sitemap index and its pages are valid against the
/// sitemaps.org schemas (`clients/feeds.py`, `clients/feeds.mjs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_readers_and_the_sitemap_schemas_accept_them() {
    let (_database, app) = archive(Backend::Postgres, 60, 25).await;
    let mut feeds = Vec::new();
    for (query, filter) in filter_cases() {
        let (listed, _) = api_list(&app, &filter).await;
        let entries: Vec<Value> = listed
            .iter()
            .map(|(slug, title)| json!({ "title": title, "link": app.url(&format!("/releases/{slug}")) }))
            .collect();
        for (path, version) in FORMATS {
            let path = if query.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{query}")
            };
            feeds.push(json!({ "path": path, "version": version, "entries": entries }));
        }
    }
    let release_links: Vec<String> = stored_slugs(&app.db)
        .await
        .values()
        .map(|slug| app.url(&format!("/releases/{slug}")))
        .collect();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let expected = dir.path().join("expected.json");
    let document = json!({ "feeds": feeds, "sitemap": { "release_links": &release_links } });
    std::fs::write(&expected, document.to_string()).expect("the expectations are written");

    let python = tokio::task::spawn_blocking(python)
        .await
        .unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()));
    // The official sitemap.xsd comes with the Node clients' `sitemap` package.
    tokio::task::spawn_blocking(ensure_installed)
        .await
        .unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()));
    let stdout = run_client(&python, "feeds.py", &app.base_url, &expected).await;
    let xml_feeds = filter_cases().len() * 2;
    assert!(
        stdout.contains(&format!("{xml_feeds} feeds read by feedparser")),
        "{stdout}"
    );
    let releases = release_links.len();
    assert!(
        stdout.contains(&format!(
            "/sitemap.xml and its {} pages are valid; {releases} releases, each once",
            releases.div_ceil(25) + 1
        )),
        "{stdout}"
    );
    let node = PathBuf::from("node");
    let stdout = run_client(&node, "feeds.mjs", &app.base_url, &expected).await;
    // All but the empty Atom feed, which feed-extractor takes for no feed at all.
    assert!(
        stdout.contains(&format!(
            "{} feeds read by feed-extractor",
            filter_cases().len() * 3 - 1
        )),
        "{stdout}"
    );
}
