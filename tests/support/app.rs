//! Spawning the real API server for HTTP tests: `api::router` served by `api::serve` on a random
//! port over a test database, and a client that talks to it the way a frontend would.

use std::net::SocketAddr;
use std::path::PathBuf;

use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::{TestDatabase, catalogue_path, seeds_dir};

/// A running server and a client for it. The server stops when this is dropped.
#[derive(Debug)]
pub struct TestApp {
    pub address: SocketAddr,
    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub base_url: String,
    /// Follows no redirects, so tests can see them.
    pub client: reqwest::Client,
    /// The server's own connection (a clone shares its pool).
    pub db: DatabaseConnection,
    shutdown: Option<oneshot::Sender<()>>,
}

/// The server over `database`, loaded with the seed listings.
pub async fn spawn_app(database: &TestDatabase) -> TestApp {
    let db = database.connect().await;
    load_listings(&db, &[seeds_dir()]).await;
    spawn_app_with(db).await
}

/// The server over `db` as it is (no loading), e.g. a connection with a metric callback,
/// searching with a search index in memory built from it, as the `api` binary does.
pub async fn spawn_app_with(db: DatabaseConnection) -> TestApp {
    let state = with_search_index(api::AppState::new(db)).await;
    spawn_app_with_state(state).await
}

/// `state` searching with a search index in memory, built from its database and kept in step
/// with it (following `changes`, or reading the change log every second).
pub async fn with_search_index(state: api::AppState) -> api::AppState {
    with_search_index_following(state, None).await
}

/// [`with_search_index`] woken by `changes`' notifications.
pub async fn with_search_index_following(
    state: api::AppState,
    changes: Option<&api::ops::archive_changes::ArchiveChanges>,
) -> api::AppState {
    let search = api::ops::search_sync::start(
        None,
        false,
        api::Store::new(state.db.clone()),
        changes.cloned(),
    )
    .await
    .expect("the search index builds");
    state.with_search_engine(search.engine, search.freshness)
}

/// The server over a state built by the test, e.g. with other limits or CORS origins.
pub async fn spawn_app_with_state(state: api::AppState) -> TestApp {
    spawn_app_within(state, api::ConnectionLimits::default()).await
}

/// The server over `state` within connection limits of the test's choosing.
pub async fn spawn_app_within(state: api::AppState, limits: api::ConnectionLimits) -> TestApp {
    let db = state.db.clone();
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free test port");
    let address = listener
        .local_addr()
        .expect("the listener has a local address");
    let (shutdown, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let shutdown = async {
            stopped.await.ok();
        };
        if let Err(error) = api::serve_with(listener, state, &limits, shutdown).await {
            eprintln!("test server failed: {error}");
        }
    });
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("the HTTP client builds");
    TestApp {
        address,
        base_url: format!("http://{address}"),
        client,
        db,
        shutdown: Some(shutdown),
    }
}

/// POSTs `query` to the GraphQL endpoint `url` as a client would: its `data`, or why not (no
/// answer, no JSON, a status other than 200, or errors).
pub async fn post_query(client: &reqwest::Client, url: &str, query: &str) -> Result<Value, String> {
    let response = client
        .post(url)
        .json(&json!({ "query": query }))
        .send()
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| format!("{status} without JSON: {e}"))?;
    if status != 200 || body.get("errors").is_some() {
        return Err(format!("{status}: {body}"));
    }
    Ok(body["data"].clone())
}

/// Ingests `paths` (listing files or folders) with the seed catalogue, as `ingest` would.
pub async fn load_listings(db: &DatabaseConnection, paths: &[PathBuf]) {
    ingest::ingest_paths(
        db,
        &catalogue_path(),
        paths,
        ingest::LoadOptions::default(),
        &ingest::NoProgress,
    )
    .await
    .unwrap_or_else(|e| panic!("cannot ingest {paths:?}: {e}"));
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The value of the series `name` (with its labels, e.g.
    /// `pressroom_response_cache_lookups_total{result="hit"}`) on `/metrics`, if it is there.
    pub async fn metric(&self, name: &str) -> Option<f64> {
        let text = self
            .get("/metrics")
            .await
            .text()
            .await
            .expect("GET /metrics");
        let prefix = format!("{name} ");
        text.lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .map(|value| {
                value
                    .trim()
                    .parse()
                    .unwrap_or_else(|e| panic!("{name}: a number, not {value:?}: {e}"))
            })
    }

    /// A plain GET of `path`, e.g. `/healthz`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path} failed: {e}"))
    }

    /// The whole GraphQL response (`data` and `errors`) to a POST of `query` with `variables`.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        let response = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST /graphql failed: {e}"));
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .unwrap_or_else(|e| panic!("POST /graphql answered {status} without JSON: {e}"));
        assert!(
            status.is_success(),
            "POST /graphql answered {status}: {body}"
        );
        body
    }

    /// `data` of a query that must succeed; panics with the errors otherwise.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let mut body = self.graphql(query, variables.clone()).await;
        assert!(
            body.get("errors").is_none(),
            "query failed: {body}\nquery: {query}\nvariables: {variables}"
        );
        body["data"].take()
    }

    /// A GraphQL request sent as GET with `query` and `variables` in the URL.
    pub async fn graphql_get(&self, query: &str, variables: Value) -> reqwest::Response {
        let mut url = self.url("/graphql?query=");
        url.push_str(&percent_encode(query));
        url.push_str("&variables=");
        url.push_str(&percent_encode(&variables.to_string()));
        self.client
            .get(url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET /graphql failed: {e}"))
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            shutdown.send(()).ok();
        }
    }
}

/// Percent-encoding for a URL query value (everything but unreserved characters).
fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}
