//! The explorer on `/` and the playground on `/graphql` as a browser first loads them: every file
//! they reference (scripts, styles, icons, and the explorer's ES module imports, followed
//! recursively) is served from the server itself with the right type and caching, and nothing is
//! fetched from another origin. The pages' behaviour in a real browser is `clients/browser.mjs`.

use std::collections::{BTreeSet, VecDeque};

use serde_json::Value;

use integration_tests::TestDatabase;
use integration_tests::app::{TestApp, spawn_app_with};

/// A server over an empty archive: these pages ship with the binary, not with the data.
async fn app() -> (TestApp, TestDatabase) {
    let database = TestDatabase::sqlite().await;
    let app = spawn_app_with(database.connect().await).await;
    (app, database)
}

/// A page or file as a browser gets it: status, `Content-Type`, `Cache-Control`, body.
struct Fetched {
    status: u16,
    content_type: String,
    cache_control: String,
    etag: Option<String>,
    body: String,
}

async fn fetch(app: &TestApp, path: &str, accept: &str) -> Fetched {
    let response = app
        .client
        .get(app.url(path))
        .header("accept", accept)
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
    let cache_control = header("cache-control").unwrap_or_default();
    let etag = header("etag");
    let bytes = response
        .bytes()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: no body: {e}"));
    Fetched {
        status,
        content_type,
        cache_control,
        etag,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// The opening `<tag …>` of every such element of `html`, without its `<tag` and `>`.
fn elements<'a>(html: &'a str, tag: &str) -> Vec<&'a str> {
    let opening = format!("<{tag}");
    let mut found = Vec::new();
    for (start, _) in html.match_indices(&opening) {
        let rest = &html[start + opening.len()..];
        if !rest.starts_with(|c: char| c.is_whitespace() || c == '>') {
            continue; // e.g. `<linkage`, not `<link`
        }
        found.push(&rest[..rest.find('>').unwrap_or(rest.len())]);
    }
    found
}

/// The value of `attribute` in an element from [`elements`] (quoted with `"` or `'`).
fn attribute(element: &str, attribute: &str) -> Option<String> {
    ['"', '\''].into_iter().find_map(|quote| {
        let needle = format!(" {attribute}={quote}");
        let at = element.find(&needle)?;
        let value = &element[at + needle.len()..];
        Some(value[..value.find(quote).unwrap_or(value.len())].to_owned())
    })
}

/// The values of `attribute` on every `<tag …>` of `html`.
fn attribute_values(html: &str, tag: &str, attribute_name: &str) -> Vec<String> {
    elements(html, tag)
        .into_iter()
        .filter_map(|element| attribute(element, attribute_name))
        .collect()
}

/// What the `<link>`s of `html` make a browser fetch as it loads the page: not the
/// `rel="alternate"` ones (feeds, fetched only by readers who follow them).
fn loaded_links(html: &str) -> Vec<String> {
    elements(html, "link")
        .into_iter()
        .filter(|element| attribute(element, "rel").as_deref() != Some("alternate"))
        .filter_map(|element| attribute(element, "href"))
        .collect()
}

/// The specifiers of a module's static imports: `import … from '…'` and `import '…'`, also
/// when an import spans several lines.
fn import_specifiers(module: &str) -> Vec<String> {
    let mut specifiers = Vec::new();
    let mut statement: Option<String> = None;
    for line in module.lines() {
        let trimmed = line.trim();
        if statement.is_none() && (trimmed.starts_with("import ") || trimmed.starts_with("import{"))
        {
            statement = Some(String::new());
        }
        if let Some(text) = statement.as_mut() {
            text.push_str(trimmed);
            text.push(' ');
            if trimmed.ends_with(';') || trimmed.ends_with('\'') || trimmed.ends_with('"') {
                let text = text.trim_end().trim_end_matches(';');
                let quote = text.chars().last().unwrap_or('\'');
                let inner = &text[..text.len().saturating_sub(1)];
                let specifier = &inner[inner.rfind(quote).map_or(0, |at| at + 1)..];
                specifiers.push(specifier.to_owned());
                statement = None;
            }
        }
    }
    specifiers
}

/// `reference` as an absolute path on the server, resolved against the page or module at
/// `from`; None when it names another origin (or a bare package name no browser can load).
fn same_origin_path(from: &str, reference: &str) -> Option<String> {
    if reference.starts_with("//") || reference.contains("://") || reference.starts_with("data:") {
        return None;
    }
    if reference.starts_with('/') {
        return Some(reference.to_owned());
    }
    if !(reference.starts_with("./") || reference.starts_with("../")) {
        return None;
    }
    let mut segments: Vec<&str> = from.split('/').collect();
    segments.pop(); // the file itself
    for segment in reference.split('/') {
        match segment {
            "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    Some(segments.join("/"))
}

fn expected_content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        Some("svg") => "image/svg+xml",
        Some("html") => "text/html",
        _ => "text/plain",
    }
}

/// Fetches `start` and everything it loads, recursively; returns every path fetched.
/// Panics on a reference to another origin, a missing file or a wrong type.
async fn follow_references(app: &TestApp, page_path: &str, page: &str) -> BTreeSet<String> {
    let mut queue: VecDeque<(String, String)> = VecDeque::new();
    let references = [attribute_values(page, "script", "src"), loaded_links(page)].concat();
    for reference in references {
        queue.push_back((page_path.to_owned(), reference));
    }
    let mut seen = BTreeSet::new();
    while let Some((from, reference)) = queue.pop_front() {
        let path = same_origin_path(&from, &reference).unwrap_or_else(|| {
            panic!("{from} loads {reference:?}: not a file of this server (no other origin may be asked)")
        });
        if !seen.insert(path.clone()) {
            continue;
        }
        let file = fetch(app, &path, "*/*").await;
        assert_eq!(
            file.status, 200,
            "{from} loads {path}, which answers {}",
            file.status
        );
        let expected = expected_content_type(&path);
        assert!(
            file.content_type.starts_with(expected),
            "{path} is served as {:?}, not {expected}",
            file.content_type
        );
        assert!(
            !file.cache_control.is_empty(),
            "{path} has no Cache-Control"
        );
        if expected == "text/javascript" {
            for specifier in import_specifiers(&file.body) {
                queue.push_back((path.clone(), specifier));
            }
        }
    }
    seen
}

#[tokio::test]
async fn the_explorer_is_on_the_home_page_with_every_file_it_loads() {
    let (app, _database) = app().await;
    let page = fetch(&app, "/", "text/html,application/xhtml+xml,*/*;q=0.8").await;
    assert_eq!(page.status, 200, "GET / answers {}", page.status);
    assert!(
        page.content_type.starts_with("text/html"),
        "GET / is {:?}",
        page.content_type
    );
    assert_eq!(
        page.cache_control, "no-cache",
        "a new version must show at once"
    );
    for part in [
        r#"<html lang="en">"#,
        r#"name="viewport""#,
        "<h1>",
        r#"<label for="search">"#,
        r#"id="programme-options""#,
        r#"<label for="office">"#,
        r#"<label for="from">"#,
        r#"<label for="to">"#,
        r#"<label for="year">"#,
        r#"<label for="month">"#,
        // The first stop of the Tab key, and the feed of what the list shows.
        r##"<a class="skip" href="#results-heading">"##,
        r#"rel="alternate" type="application/atom+xml""#,
        r#"id="chart""#,
        r#"id="release-list""#,
        r#"href="/graphql""#,
    ] {
        assert!(page.body.contains(part), "the explorer lacks {part}");
    }

    let loaded = follow_references(&app, "/", &page.body).await;
    for module in [
        "/explorer/app.js",
        "/explorer/api.js",
        "/explorer/chart.js",
        "/explorer/dom.js",
        "/explorer/live.js",
        "/explorer/state.js",
        "/explorer/style.css",
    ] {
        assert!(
            loaded.contains(module),
            "{module} is not reached from the page: {loaded:?}"
        );
    }

    // The links for developers lead somewhere.
    for link in ["/graphql", "/schema.graphql"] {
        assert!(page.body.contains(&format!(r#"href="{link}""#)));
        let target = fetch(&app, link, "text/html,*/*;q=0.8").await;
        assert_eq!(
            target.status, 200,
            "the explorer links to {link}, which answers {}",
            target.status
        );
    }
}

#[tokio::test]
async fn the_explorer_s_files_are_revalidated_cheaply() {
    let (app, _database) = app().await;
    let first = fetch(&app, "/explorer/app.js", "*/*").await;
    let etag = first.etag.expect("app.js has an ETag");
    let again = app
        .client
        .get(app.url("/explorer/app.js"))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("GET /explorer/app.js again");
    assert_eq!(again.status(), 304, "an unchanged file is not sent again");
    let body = again.bytes().await.expect("the 304's body");
    assert!(body.is_empty(), "a 304 has no body");

    let missing = fetch(&app, "/explorer/missing.js", "*/*").await;
    assert_eq!(missing.status, 404);
}

/// `page.js` is loaded by the server's release pages, not by the explorer's: it is checked on
/// its own.
#[tokio::test]
async fn the_release_pages_script_is_served() {
    let (app, _database) = app().await;
    let script = fetch(&app, "/explorer/page.js", "*/*").await;
    assert_eq!(script.status, 200, "GET /explorer/page.js");
    assert!(
        script.content_type.starts_with("text/javascript"),
        "{:?}",
        script.content_type
    );
    assert_eq!(script.cache_control, "no-cache");
    assert!(
        import_specifiers(&script.body).is_empty(),
        "page.js stands alone: a release page loads nothing else of the explorer"
    );
}

#[tokio::test]
async fn the_playground_loads_nothing_from_other_origins() {
    let (app, _database) = app().await;
    let page = fetch(
        &app,
        "/graphql",
        "text/html,application/xhtml+xml,*/*;q=0.8",
    )
    .await;
    assert_eq!(
        page.status, 200,
        "GET /graphql from a browser answers {}",
        page.status
    );
    assert!(
        page.content_type.starts_with("text/html"),
        "{:?}",
        page.content_type
    );
    assert!(
        !page.body.contains("unpkg.com"),
        "the playground still uses a CDN"
    );
    assert!(
        page.body.contains(r#"<a href="/">"#),
        "the playground does not lead back to the explorer"
    );

    let loaded = follow_references(&app, "/graphql", &page.body).await;
    let vendored: Vec<&String> = loaded
        .iter()
        .filter(|path| path.contains("graphiql-") || path.contains("react"))
        .collect();
    assert_eq!(
        vendored.len(),
        4,
        "GraphiQL's script and style, React and ReactDOM: {loaded:?}"
    );
    for path in &vendored {
        let file = fetch(&app, path, "*/*").await;
        assert!(
            file.cache_control.contains("immutable"),
            "{path}'s URL names its version, so browsers may keep it: {:?}",
            file.cache_control
        );
        // Each vendored package ships its licence beside it.
        let folder = &path[..path.rfind('/').unwrap_or(0)];
        let licence = fetch(&app, &format!("{folder}/LICENSE"), "*/*").await;
        assert_eq!(licence.status, 200, "{folder}/LICENSE");
        assert!(licence.body.contains("MIT License"), "{folder}/LICENSE");
    }

    // The page opens on the example query, passed as JSON that cannot end its script block.
    let config_start = page
        .body
        .find(r#"<script id="playground-config" type="application/json">"#)
        .expect("the playground's configuration block");
    let config = &page.body[config_start..];
    let config = &config[config.find('>').map_or(0, |at| at + 1)..];
    let config = &config[..config.find("</script>").expect("the block's end")];
    assert!(!config.contains('<'), "{config}");
    let config: Value = serde_json::from_str(config).expect("the configuration is JSON");
    assert_eq!(config["endpoint"], "/graphql");
    assert_eq!(
        config["defaultQuery"],
        api::http::graphql_http::EXAMPLE_QUERY
    );
}
