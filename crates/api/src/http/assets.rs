//! What a browser gets besides the API: the archive explorer on `/` and the files of the GraphiQL
//! playground on `/graphql`. Every file is embedded in the binary, so a deployment is one file,
//! nothing is built on the user's side, and no page ever loads anything from another origin.

use std::sync::LazyLock;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::http::entity_tag::{entity_tag, if_none_match};

/// GraphiQL's version: the last release with a UMD build. `clients/vendor-playground.sh`
/// refreshes `assets/playground/` and checks that it fetches this version.
pub const GRAPHIQL_VERSION: &str = "3.8.3";
/// React and ReactDOM's version, for GraphiQL.
pub const REACT_VERSION: &str = "18.3.1";

/// Where the explorer's own files are served.
pub const EXPLORER_PREFIX: &str = "/explorer/";
/// Where the playground's files are served.
pub const PLAYGROUND_PREFIX: &str = "/playground/";

/// Files whose URL never changes while their content may: the browser keeps them but asks
/// again each time, and gets a 304 while the ETag still matches.
const REVALIDATE: &str = "no-cache";
/// Files whose URL carries their version: the content behind it can never change.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

const HTML: &str = "text/html; charset=utf-8";
const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const SVG: &str = "image/svg+xml";
const TEXT: &str = "text/plain; charset=utf-8";

/// One embedded file and how it is served.
#[derive(Debug)]
pub struct Asset {
    /// The URL path it is served at.
    pub path: String,
    pub content_type: &'static str,
    pub cache_control: &'static str,
    pub body: &'static [u8],
    etag: String,
}

impl Asset {
    fn new(
        path: String,
        content_type: &'static str,
        cache_control: &'static str,
        body: &'static [u8],
    ) -> Self {
        let etag = entity_tag(body);
        Self {
            path,
            content_type,
            cache_control,
            body,
            etag,
        }
    }
}

/// `include_bytes!` of a file under `crates/api/assets/`.
macro_rules! embed {
    ($file:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/", $file)).as_slice()
    };
}

/// The explorer's page, served on `/`.
static EXPLORER_PAGE: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "/".to_owned(),
        HTML,
        REVALIDATE,
        embed!("explorer/index.html"),
    )
});

/// Every embedded file but the explorer's page.
static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    let explorer = |file: &str, content_type, body| {
        Asset::new(
            format!("{EXPLORER_PREFIX}{file}"),
            content_type,
            REVALIDATE,
            body,
        )
    };
    let playground = |file: &str, content_type, body| {
        Asset::new(
            format!("{PLAYGROUND_PREFIX}{file}"),
            content_type,
            REVALIDATE,
            body,
        )
    };
    let vendored = |package: &str, version: &str, file: &str, content_type, body| {
        Asset::new(
            format!("{PLAYGROUND_PREFIX}{package}-{version}/{file}"),
            content_type,
            IMMUTABLE,
            body,
        )
    };
    vec![
        explorer("app.js", JAVASCRIPT, embed!("explorer/app.js")),
        explorer("api.js", JAVASCRIPT, embed!("explorer/api.js")),
        explorer("chart.js", JAVASCRIPT, embed!("explorer/chart.js")),
        explorer("dom.js", JAVASCRIPT, embed!("explorer/dom.js")),
        explorer("live.js", JAVASCRIPT, embed!("explorer/live.js")),
        explorer("state.js", JAVASCRIPT, embed!("explorer/state.js")),
        explorer("suggest.js", JAVASCRIPT, embed!("explorer/suggest.js")),
        explorer("style.css", CSS, embed!("explorer/style.css")),
        explorer("pages.css", CSS, embed!("explorer/pages.css")),
        explorer("page.js", JAVASCRIPT, embed!("explorer/page.js")),
        explorer("favicon.svg", SVG, embed!("explorer/favicon.svg")),
        playground(
            "playground.js",
            JAVASCRIPT,
            embed!("playground/playground.js"),
        ),
        playground("playground.css", CSS, embed!("playground/playground.css")),
        vendored(
            "graphiql",
            GRAPHIQL_VERSION,
            "graphiql.min.js",
            JAVASCRIPT,
            embed!("playground/graphiql/graphiql.min.js"),
        ),
        vendored(
            "graphiql",
            GRAPHIQL_VERSION,
            "graphiql.min.css",
            CSS,
            embed!("playground/graphiql/graphiql.min.css"),
        ),
        vendored(
            "graphiql",
            GRAPHIQL_VERSION,
            "LICENSE",
            TEXT,
            embed!("playground/graphiql/LICENSE"),
        ),
        vendored(
            "react",
            REACT_VERSION,
            "react.production.min.js",
            JAVASCRIPT,
            embed!("playground/react/react.production.min.js"),
        ),
        vendored(
            "react",
            REACT_VERSION,
            "LICENSE",
            TEXT,
            embed!("playground/react/LICENSE"),
        ),
        vendored(
            "react-dom",
            REACT_VERSION,
            "react-dom.production.min.js",
            JAVASCRIPT,
            embed!("playground/react-dom/react-dom.production.min.js"),
        ),
        vendored(
            "react-dom",
            REACT_VERSION,
            "LICENSE",
            TEXT,
            embed!("playground/react-dom/LICENSE"),
        ),
    ]
});

/// The explorer on `/` and the embedded files under `/explorer/` and `/playground/`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/", get(serve))
        .route("/explorer/{*file}", get(serve))
        .route("/playground/{*file}", get(serve))
}

/// The embedded file served at `path`, if any.
pub fn asset(path: &str) -> Option<&'static Asset> {
    if path == "/" {
        return Some(&EXPLORER_PAGE);
    }
    ASSETS.iter().find(|asset| asset.path == path)
}

async fn serve(uri: Uri, headers: HeaderMap) -> Response {
    let Some(asset) = asset(uri.path()) else {
        return crate::http::pages::not_found_response(&uri);
    };
    let etag = HeaderValue::from_str(&asset.etag).unwrap_or(HeaderValue::from_static("\"\""));
    let common = [
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static(asset.cache_control),
        ),
        (header::ETAG, etag),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
    ];
    if if_none_match(&headers, &asset.etag) {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    (
        common,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        )],
        asset.body,
    )
        .into_response()
}

/// The playground's page: GraphiQL on `endpoint`, opened on `default_query` on a first visit
/// (GraphiQL then remembers the user's own query in the browser).
///
/// Both values reach the page's script as JSON inside a non-executable `<script>` block, with
/// `<`, `>` and `&` escaped so that no text can end that block early.
pub fn playground_page(endpoint: &str, default_query: &str) -> String {
    let config = serde_json::json!({ "endpoint": endpoint, "defaultQuery": default_query });
    let config = config
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <meta http-equiv="Content-Security-Policy" content="default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'">
  <title>ILO China and Mongolia press releases · GraphQL playground (GraphiQL)</title>
  <link rel="icon" href="{EXPLORER_PREFIX}favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="{PLAYGROUND_PREFIX}graphiql-{GRAPHIQL_VERSION}/graphiql.min.css">
  <link rel="stylesheet" href="{PLAYGROUND_PREFIX}playground.css">
</head>
<body>
  <header class="playground-bar">
    <h1>GraphQL playground</h1>
    <nav aria-label="Site"><a href="/">← Back to the releases explorer</a></nav>
  </header>
  <main id="graphiql">Loading the GraphiQL playground…</main>
  <noscript>The playground needs JavaScript. Without it, query the API with
    <code>curl</code>; the schema is at <a href="/schema.graphql">/schema.graphql</a>.</noscript>
  <script id="playground-config" type="application/json">{config}</script>
  <script src="{PLAYGROUND_PREFIX}react-{REACT_VERSION}/react.production.min.js"></script>
  <script src="{PLAYGROUND_PREFIX}react-dom-{REACT_VERSION}/react-dom.production.min.js"></script>
  <script src="{PLAYGROUND_PREFIX}graphiql-{GRAPHIQL_VERSION}/graphiql.min.js"></script>
  <script src="{PLAYGROUND_PREFIX}playground.js"></script>
</body>
</html>
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_playground_page_keeps_query_text_inside_its_script_block() {
        let page = playground_page("/graphql", "# </script><script>alert(1)</script> & more");
        assert_eq!(page.matches("</script>").count(), 5, "{page}");
        assert!(page.contains(r"\u003c/script\u003e"), "{page}");
        assert!(page.contains(r"\u0026 more"), "{page}");
    }

    #[test]
    fn every_embedded_file_has_a_distinct_path() {
        let mut paths: Vec<&str> = ASSETS.iter().map(|asset| asset.path.as_str()).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), ASSETS.len());
    }
}
