//! The server's HTML pages as people and crawlers get them: a release at `/releases/<slug>`, a
//! programme at `/programmes/<slug>`, an office at `/offices/<slug>`, and a 404 page for every
//! address that names nothing. Each page is compared with the GraphQL API's own answer for the
//! same thing, on PostgreSQL and SQLite; nothing is checked against hard-coded figures.

use std::collections::{BTreeSet, VecDeque};

use scraper::{Html, Selector};
use serde_json::{Value, json};

use integration_tests::app::{TestApp, spawn_app, spawn_app_with_state};
use integration_tests::json::{list, text};
use integration_tests::{Backend, TestDatabase};

const RELEASE_QUERY: &str = r#"query($slug: String!) {
  release(slug: $slug) {
    title publishedOn summary imageCredit
    programmes { slug name acronym } offices { slug name }
    related { slug title }
  }
}"#;

/// A GET as a browser sends it: status, a header's value, and the parsed body.
struct Got {
    status: u16,
    content_type: String,
    etag: Option<String>,
    last_modified: Option<String>,
    html: Html,
    body: String,
}

async fn get(app: &TestApp, path: &str) -> Got {
    get_with(app, path, &[]).await
}

async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Got {
    let mut request = app.client.get(app.url(path)).header("accept", "text/html");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path} failed: {e}"));
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let status = response.status().as_u16();
    let content_type = header("content-type").unwrap_or_default();
    let etag = header("etag");
    let last_modified = header("last-modified");
    let body = response.text().await.unwrap_or_default();
    Got {
        status,
        content_type,
        etag,
        last_modified,
        html: Html::parse_document(&body),
        body,
    }
}

fn select<'a>(html: &'a Html, selector: &str) -> Vec<scraper::ElementRef<'a>> {
    let parsed = Selector::parse(selector).unwrap_or_else(|e| panic!("{selector}: {e}"));
    html.select(&parsed).collect()
}

/// The trimmed text of the one element `selector` finds.
fn one_text(html: &Html, selector: &str) -> String {
    let found = select(html, selector);
    assert_eq!(found.len(), 1, "{selector} found {} elements", found.len());
    found[0].text().collect::<String>().trim().to_owned()
}

/// The attribute `name` of the one element `selector` finds.
fn one_attr(html: &Html, selector: &str, name: &str) -> String {
    let found = select(html, selector);
    assert_eq!(found.len(), 1, "{selector} found {} elements", found.len());
    found[0]
        .value()
        .attr(name)
        .unwrap_or_else(|| panic!("{selector} has no {name}"))
        .to_owned()
}

fn hrefs(html: &Html, selector: &str) -> Vec<String> {
    select(html, selector)
        .iter()
        .filter_map(|a| a.value().attr("href").map(str::to_owned))
        .collect()
}

/// Every release's slug, newest first, as the API lists them.
async fn all_slugs(app: &TestApp) -> Vec<String> {
    let data = app
        .data("{ releases(first: 100) { nodes { slug } } }", json!({}))
        .await;
    list(&data["releases"]["nodes"])
        .iter()
        .map(|node| text(&node["slug"]))
        .collect()
}

#[tokio::test]
async fn release_pages_say_what_the_api_says_on_postgres() {
    release_pages_say_what_the_api_says(Backend::Postgres).await;
}

#[tokio::test]
async fn release_pages_say_what_the_api_says_on_sqlite() {
    release_pages_say_what_the_api_says(Backend::Sqlite).await;
}

async fn release_pages_say_what_the_api_says(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let app = spawn_app(&database).await;
    let slugs = all_slugs(&app).await;
    assert!(!slugs.is_empty());
    for slug in &slugs {
        let release = &app.data(RELEASE_QUERY, json!({ "slug": slug })).await["release"];
        let page = get(&app, &format!("/releases/{slug}")).await;
        assert_eq!(page.status, 200, "/releases/{slug}");
        assert_eq!(page.content_type, "text/html; charset=utf-8");
        let html = &page.html;
        let title = text(&release["title"]);
        let canonical = app.url(&format!("/releases/{slug}"));

        // What a reader sees.
        assert_eq!(one_text(html, "article.release h1"), title);
        assert_eq!(
            one_attr(html, "article.release .meta time", "datetime"),
            text(&release["publishedOn"])
        );
        match release["summary"].as_str() {
            Some(summary) => assert_eq!(one_text(html, "article.release p.summary"), summary),
            None => assert!(select(html, "article.release p.summary").is_empty()),
        }
        if let Some(credit) = release["imageCredit"].as_str() {
            assert_eq!(
                one_text(html, "article.release p.credit"),
                format!("Photo: {credit}")
            );
        }
        let programme_links: Vec<String> = list(&release["programmes"])
            .iter()
            .map(|p| format!("/programmes/{}", text(&p["slug"])))
            .collect();
        let office_links: Vec<String> = list(&release["offices"])
            .iter()
            .map(|o| format!("/offices/{}", text(&o["slug"])))
            .collect();
        let tag_links = hrefs(html, "dl.tags a");
        assert_eq!(
            tag_links,
            [programme_links, office_links].concat(),
            "{slug}: programmes then offices, as the API orders them"
        );
        for programme in list(&release["programmes"]) {
            if let Some(acronym) = programme["acronym"].as_str() {
                let abbr = select(html, "dl.tags abbr")
                    .into_iter()
                    .find(|abbr| abbr.text().collect::<String>() == acronym)
                    .unwrap_or_else(|| panic!("{slug}: {acronym} is not expanded"));
                assert_eq!(abbr.value().attr("title"), programme["name"].as_str());
            }
        }
        let related: Vec<String> = list(&release["related"])
            .iter()
            .map(|r| format!("/releases/{}", text(&r["slug"])))
            .collect();
        assert_eq!(hrefs(html, "ul.related a"), related, "{slug}: related");

        // What a crawler and a link preview read.
        assert!(one_text(html, "head title").starts_with(&title));
        let description = one_attr(html, r#"meta[name="description"]"#, "content");
        assert!(
            !description.is_empty() && description.chars().count() <= 160,
            "{slug}: description {description:?}"
        );
        assert_eq!(
            one_attr(html, r#"link[rel="canonical"]"#, "href"),
            canonical
        );
        assert_eq!(
            one_attr(html, r#"meta[property="og:url"]"#, "content"),
            canonical
        );
        assert_eq!(
            one_attr(html, r#"meta[property="og:type"]"#, "content"),
            "article"
        );
        assert_eq!(
            one_attr(html, r#"meta[property="og:title"]"#, "content"),
            title
        );
        assert_eq!(
            one_attr(html, r#"meta[property="og:description"]"#, "content"),
            description
        );
        assert_eq!(
            one_attr(html, r#"meta[name="twitter:card"]"#, "content"),
            "summary"
        );
        assert_eq!(
            one_attr(html, r#"meta[name="twitter:title"]"#, "content"),
            title
        );
        let json_ld = one_text(html, r#"script[type="application/ld+json"]"#);
        let article: Value = serde_json::from_str(&json_ld)
            .unwrap_or_else(|e| panic!("{slug}: JSON-LD is not JSON ({e}): {json_ld}"));
        assert_eq!(article["@context"], "https://schema.org");
        assert_eq!(article["@type"], "NewsArticle");
        assert_eq!(article["headline"], release["title"]);
        assert_eq!(article["datePublished"], release["publishedOn"]);
        assert_eq!(article["url"], canonical.as_str());
        assert_eq!(article["description"], release["summary"]);
        assert_eq!(article["publisher"]["@type"], "Organization");
        assert!(
            hrefs(html, r#"link[rel="alternate"]"#)
                .iter()
                .any(|href| href.ends_with("/feeds/releases.atom")),
            "{slug}: no feed advertised"
        );
    }
}

#[tokio::test]
async fn programme_and_office_pages_list_their_newest_releases() {
    let database = TestDatabase::sqlite().await;
    let app = spawn_app(&database).await;
    let catalogue = app
        .data(
            "{ programmes { slug name acronym description } offices { slug name } }",
            json!({}),
        )
        .await;
    for (kind, filter_field, items) in [
        ("programmes", "programmes", list(&catalogue["programmes"])),
        ("offices", "offices", list(&catalogue["offices"])),
    ] {
        for item in items {
            let slug = text(&item["slug"]);
            let expected = app
                .data(
                    "query($filter: ReleaseFilter) { releases(filter: $filter, first: 20) { totalCount nodes { slug } } }",
                    json!({ "filter": { filter_field: [slug] } }),
                )
                .await;
            let page = get(&app, &format!("/{kind}/{slug}")).await;
            assert_eq!(page.status, 200, "/{kind}/{slug}");
            let html = &page.html;
            let listed = hrefs(html, "ol.releases h3 a");
            let newest: Vec<String> = list(&expected["releases"]["nodes"])
                .iter()
                .map(|node| format!("/releases/{}", text(&node["slug"])))
                .collect();
            assert_eq!(
                listed, newest,
                "/{kind}/{slug}: the newest 20, newest first"
            );
            let count = expected["releases"]["totalCount"]
                .as_u64()
                .unwrap_or_default();
            let stats = one_text(html, ".collection p.stats");
            let releases = if count == 1 { "release" } else { "releases" };
            assert_eq!(stats, format!("{count} press {releases} in the archive."));
            assert!(one_text(html, "h1").contains(&text(&item["name"])));
            if let Some(description) = item["description"].as_str() {
                assert_eq!(one_text(html, "p.description"), description);
            }
            assert_eq!(
                one_attr(html, r#"link[rel="canonical"]"#, "href"),
                app.url(&format!("/{kind}/{slug}"))
            );
            let feed_parameter = if kind == "programmes" {
                "programme"
            } else {
                "office"
            };
            assert!(
                hrefs(html, r#"link[rel="alternate"]"#)
                    .iter()
                    .any(|href| href
                        .ends_with(&format!("/feeds/releases.atom?{feed_parameter}={slug}"))),
                "/{kind}/{slug} advertises no feed of its releases"
            );
        }
    }
}

/// Following every link from one release page, as a crawler would, reaches no dead end.
#[tokio::test]
async fn every_link_between_pages_resolves() {
    let database = TestDatabase::sqlite().await;
    let app = spawn_app(&database).await;
    let first = all_slugs(&app).await.remove(0);
    let mut queue = VecDeque::from([format!("/releases/{first}")]);
    let mut seen = BTreeSet::new();
    while let Some(path) = queue.pop_front() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let page = get(&app, &path).await;
        assert_eq!(page.status, 200, "{path}: a link leads nowhere");
        let is_page = ["/releases/", "/programmes/", "/offices/"]
            .iter()
            .any(|prefix| path.starts_with(prefix));
        if !is_page {
            continue;
        }
        let links = [
            hrefs(&page.html, "a[href]"),
            hrefs(&page.html, "link[rel=stylesheet], link[rel=icon]"),
            select(&page.html, "script[src]")
                .iter()
                .filter_map(|s| s.value().attr("src").map(str::to_owned))
                .collect(),
        ]
        .concat();
        for link in links {
            let local = link.strip_prefix(&app.base_url).unwrap_or(&link);
            if local.starts_with('/') && !local.starts_with("/#") && !local.starts_with("/feeds/") {
                queue.push_back(local.split('#').next().unwrap_or(local).to_owned());
            }
        }
    }
    let release_pages = seen.iter().filter(|p| p.starts_with("/releases/")).count();
    assert!(
        release_pages > 1,
        "the crawl found no related release: {seen:?}"
    );
    assert!(
        seen.iter().any(|p| p.starts_with("/programmes/")),
        "{seen:?}"
    );
    assert!(seen.iter().any(|p| p.starts_with("/offices/")), "{seen:?}");
}

#[tokio::test]
async fn unknown_addresses_get_a_404_page() {
    let database = TestDatabase::sqlite().await;
    let app = spawn_app(&database).await;
    for path in [
        "/releases/no-such-release",
        "/programmes/no-such-programme",
        "/offices/no-such-office",
        "/no/such/page",
        "/explorer/no-such-file.js",
        "/releases/",
    ] {
        let page = get(&app, path).await;
        assert_eq!(page.status, 404, "{path}");
        assert_eq!(page.content_type, "text/html; charset=utf-8", "{path}");
        assert_eq!(
            one_text(&page.html, "main h1"),
            "No page at this address",
            "{path}"
        );
        assert!(
            hrefs(&page.html, "main a").contains(&"/".to_owned()),
            "{path}: the 404 page offers no way back"
        );
    }
    // The address is shown back, escaped: it cannot add markup to the page.
    let page = get(&app, "/releases/%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    assert_eq!(page.status, 404);
    assert!(
        select(&page.html, "main script").is_empty(),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn pages_are_revalidated_with_etag_and_last_modified() {
    let database = TestDatabase::sqlite().await;
    let app = spawn_app(&database).await;
    let slug = all_slugs(&app).await.remove(0);
    for path in [
        format!("/releases/{slug}"),
        "/programmes/score".to_owned(),
        "/offices/beijing".to_owned(),
    ] {
        let first = get(&app, &path).await;
        assert_eq!(first.status, 200, "{path}");
        let etag = first.etag.unwrap_or_else(|| panic!("{path}: no ETag"));
        let modified = first
            .last_modified
            .unwrap_or_else(|| panic!("{path}: no Last-Modified"));
        let again = get_with(&app, &path, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status, 304, "{path}: If-None-Match");
        assert!(again.body.is_empty());
        let since = get_with(&app, &path, &[("if-modified-since", &modified)]).await;
        assert_eq!(since.status, 304, "{path}: If-Modified-Since");
        let stale = get_with(&app, &path, &[("if-none-match", "\"stale\"")]).await;
        assert_eq!(stale.status, 200, "{path}: a stale ETag gets the page");
    }
}

#[tokio::test]
async fn links_follow_the_public_url_or_else_the_host() {
    let database = TestDatabase::sqlite().await;
    let seeded = spawn_app(&database).await;
    let slug = all_slugs(&seeded).await.remove(0);
    let path = format!("/releases/{slug}");

    let page = get_with(&seeded, &path, &[("host", "press.example.test:8080")]).await;
    assert_eq!(
        one_attr(&page.html, r#"link[rel="canonical"]"#, "href"),
        format!("http://press.example.test:8080{path}")
    );

    let state = api::AppState::new(database.connect().await)
        .with_public_url(Some("https://press.example.org/"))
        .unwrap_or_else(|e| panic!("{e}"));
    let public = spawn_app_with_state(state).await;
    let page = get(&public, &path).await;
    assert_eq!(
        one_attr(&page.html, r#"link[rel="canonical"]"#, "href"),
        format!("https://press.example.org{path}")
    );
    let article: Value = serde_json::from_str(&one_text(
        &page.html,
        r#"script[type="application/ld+json"]"#,
    ))
    .unwrap_or_default();
    assert_eq!(article["url"], format!("https://press.example.org{path}"));

    for bad in ["press.example.org", "ftp://press.example.org", "https://"] {
        assert!(
            api::AppState::new(database.connect().await)
                .with_public_url(Some(bad))
                .is_err(),
            "{bad} was taken as a public URL"
        );
    }
}
