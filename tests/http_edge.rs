//! The GraphQL endpoint's HTTP behaviour as clients meet it: media types and status codes,
//! caching of GET queries, automatic persisted queries, cost reports, CORS, compression, the
//! configurable limits, the request deadline, and the response cache.

use std::time::Duration;

use api::http::response_cache::ResponseCache;
use api::ops::archive_changes::ArchiveChanges;
use api::{AppState, Limits};
use integration_tests::app::{TestApp, load_listings, spawn_app, spawn_app_with_state};
use integration_tests::{Backend, TestDatabase, record_statements, seeds_dir};
use reqwest::header::{
    ACCEPT, ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH,
};
use reqwest::{Response, StatusCode};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const SEED_RELEASES: u64 = 40;

async fn seeded_app_with(limits: Limits, cors: &[&str]) -> (TestDatabase, TestApp) {
    let database = TestDatabase::postgres().await;
    let db = database.connect().await;
    load_listings(&db, &[seeds_dir()]).await;
    let origins: Vec<String> = cors.iter().map(|origin| (*origin).to_owned()).collect();
    let state = AppState::with_limits(db, limits)
        .with_cors_origins(&origins)
        .unwrap();
    let app = spawn_app_with_state(state).await;
    (database, app)
}

async fn post(app: &TestApp, accept: &str, body: Value) -> Response {
    app.client
        .post(app.url("/graphql"))
        .header(ACCEPT, accept)
        .json(&body)
        .send()
        .await
        .expect("POST /graphql")
}

async fn json_of(response: Response) -> Value {
    response.json().await.expect("a JSON body")
}

fn header(response: &Response, name: impl reqwest::header::AsHeaderName) -> &str {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_codes_follow_the_negotiated_media_type() {
    let database = TestDatabase::postgres().await;
    let app = spawn_app(&database).await;
    let invalid = json!({ "query": "{ releases { noSuchField } }" });

    // The GraphQL-over-HTTP media type: a request that cannot run is a 400 without `data`.
    let response = post(&app, GRAPHQL_RESPONSE, invalid.clone()).await;
    assert_eq!(response.status(), 400);
    assert!(header(&response, CONTENT_TYPE).starts_with(GRAPHQL_RESPONSE));
    let body = json_of(response).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert!(body.get("data").is_none(), "{body}");

    // Plain JSON: the same request is a 200 with the errors in the body.
    let response = post(&app, "application/json", invalid).await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, CONTENT_TYPE).starts_with("application/json"));
    assert_eq!(code(&json_of(response).await), "BAD_USER_INPUT");

    // A field error after execution started is a 200 either way, with `data`.
    let response = post(
        &app,
        GRAPHQL_RESPONSE,
        json!({ "query": "{ releases(filter: { programmes: [\"nope\"] }) { totalCount } }" }),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body = json_of(response).await;
    assert!(body.get("data").is_some(), "{body}");

    // Apollo Client's Accept header picks the GraphQL-over-HTTP media type.
    let response = post(
        &app,
        "application/graphql-response+json,application/json;q=0.9",
        json!({ "query": "{ releases { totalCount } }" }),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, CONTENT_TYPE).starts_with(GRAPHQL_RESPONSE));
    assert_eq!(
        json_of(response).await["data"]["releases"]["totalCount"],
        SEED_RELEASES
    );

    let response = post(
        &app,
        "application/xml",
        json!({ "query": "{ __typename }" }),
    )
    .await;
    assert_eq!(response.status(), 406);
    assert!(
        json_of(response).await["errors"][0]["message"]
            .as_str()
            .is_some_and(|message| message.contains(GRAPHQL_RESPONSE))
    );

    for content_type in ["application/json; charset=latin1", "application/graphql"] {
        let response = app
            .client
            .post(app.url("/graphql"))
            .header(CONTENT_TYPE, content_type)
            .body(r#"{"query": "{ __typename }"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 415, "{content_type}");
    }

    // A batch runs each operation; it may not be longer than the limit.
    let response = post(
        &app,
        "application/json",
        json!([{ "query": "{ releases { totalCount } }" }, { "query": "{ programmes { slug } }" }]),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body = json_of(response).await;
    assert_eq!(body[0]["data"]["releases"]["totalCount"], SEED_RELEASES);
    assert!(body[1]["data"]["programmes"].is_array(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_queries_are_cacheable_and_revalidated_with_304() {
    let database = TestDatabase::postgres().await;
    let app = spawn_app(&database).await;
    let url = app.url("/graphql?query=%7B%20releases%20%7B%20totalCount%20%7D%20%7D");

    let first = app.client.get(&url).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let etag = header(&first, ETAG).to_owned();
    assert!(
        etag.starts_with('"') && etag.len() > 10,
        "a strong ETag: {etag}"
    );
    assert!(
        header(&first, CACHE_CONTROL).contains("max-age"),
        "cacheable"
    );

    let again = app
        .client
        .get(&url)
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&again, ETAG), etag);
    assert!(again.text().await.unwrap_or_default().is_empty());

    let stale = app
        .client
        .get(&url)
        .header(IF_NONE_MATCH, "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200, "a different ETag gets the full answer");

    // Errors are never cached.
    let failed = app
        .client
        .get(app.url("/graphql?query=%7B%20nope%20%7D"))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&failed, CACHE_CONTROL), "no-store");
    assert!(header(&failed, ETAG).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_persisted_queries_replace_the_text_with_its_hash() {
    let database = TestDatabase::postgres().await;
    let app = spawn_app(&database).await;
    let query = "query Count { releases { totalCount } }";
    let hash = format!("{:x}", Sha256::digest(query.as_bytes()));
    let persisted = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });

    // Unknown hash: the code Apollo's link reacts to by sending the text.
    let body =
        json_of(post(&app, "application/json", json!({ "extensions": persisted })).await).await;
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");

    let body = json_of(
        post(
            &app,
            "application/json",
            json!({ "query": query, "extensions": persisted }),
        )
        .await,
    )
    .await;
    assert_eq!(
        body["data"]["releases"]["totalCount"], SEED_RELEASES,
        "{body}"
    );

    // From now on the hash alone runs the query, over POST and over GET.
    let body =
        json_of(post(&app, "application/json", json!({ "extensions": persisted })).await).await;
    assert_eq!(
        body["data"]["releases"]["totalCount"], SEED_RELEASES,
        "{body}"
    );
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[("extensions", persisted.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        json_of(response).await["data"]["releases"]["totalCount"],
        SEED_RELEASES
    );

    // A hash that does not match the text is refused.
    let body = json_of(
        post(
            &app,
            "application/json",
            json!({ "query": "{ programmes { slug } }", "extensions": persisted }),
        )
        .await,
    )
    .await;
    assert!(
        body["errors"].is_array() && body.get("data").is_none_or(Value::is_null),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cost_and_depth_are_reported_when_asked() {
    let database = TestDatabase::postgres().await;
    let app = spawn_app(&database).await;
    let query =
        json!({ "query": "{ releases(first: 10) { nodes { title programmes { slug } } } }" });

    let plain = json_of(post(&app, "application/json", query.clone()).await).await;
    assert!(
        plain.get("extensions").is_none(),
        "not reported unasked: {plain}"
    );

    let response = app
        .client
        .post(app.url("/graphql"))
        .header("x-report-cost", "true")
        .json(&query)
        .send()
        .await
        .unwrap();
    let body = json_of(response).await;
    let cost = &body["extensions"]["cost"];
    // 10 releases × (nodes, title, programmes, slug) + the releases field itself.
    assert_eq!(cost["cost"], 41, "{body}");
    assert_eq!(cost["depth"], 4, "{body}");
    assert_eq!(cost["maxCost"], Limits::default().max_cost);
    assert_eq!(cost["maxDepth"], Limits::default().max_depth);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_admits_only_the_configured_origins() {
    let allowed = "https://app.example.org";
    let (_database, app) = seeded_app_with(Limits::default(), &[allowed]).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/graphql"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let response = preflight(allowed).await.unwrap();
    assert!(response.status().is_success());
    assert_eq!(header(&response, "access-control-allow-origin"), allowed);
    let response = preflight("https://evil.example").await.unwrap();
    assert!(header(&response, "access-control-allow-origin").is_empty());

    // No origins configured: no CORS headers at all.
    let database = TestDatabase::postgres().await;
    let same_origin_only = spawn_app(&database).await;
    let response = same_origin_only
        .client
        .post(same_origin_only.url("/graphql"))
        .header("origin", allowed)
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert!(header(&response, "access-control-allow-origin").is_empty());

    assert!(
        AppState::new(same_origin_only.db.clone())
            .with_cors_origins(&["not an origin".to_owned()])
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_are_compressed_for_clients_that_accept_it() {
    let database = TestDatabase::postgres().await;
    let app = spawn_app(&database).await;
    for encoding in ["gzip", "br"] {
        let response = app
            .client
            .post(app.url("/graphql"))
            .header(ACCEPT_ENCODING, encoding)
            .json(&json!({ "query": "{ releases(first: 40) { nodes { title summary } } }" }))
            .send()
            .await
            .unwrap();
        assert_eq!(header(&response, CONTENT_ENCODING), encoding);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_are_configurable_and_introspection_can_be_switched_off() {
    let limits = Limits {
        max_depth: 3,
        max_aliases: 2,
        max_cost: 50,
        introspection: false,
        field_suggestions: false,
        ..Limits::default()
    };
    let (_database, app) = seeded_app_with(limits, &[]).await;
    let run = |query: &'static str| post(&app, "application/json", json!({ "query": query }));

    let body = json_of(run("{ releases { nodes { programmes { slug } } } }").await).await;
    assert_eq!(code(&body), "QUERY_TOO_DEEP", "{body}");
    let body = json_of(run("{ a: __typename b: __typename c: __typename }").await).await;
    assert_eq!(code(&body), "TOO_MANY_ALIASES", "{body}");
    let body = json_of(run("{ releases(first: 30) { nodes { title slug } } }").await).await;
    assert_eq!(code(&body), "QUERY_TOO_COMPLEX", "{body}");
    let body = json_of(run("{ releases(first: 5) { nodes { title } } }").await).await;
    assert!(body.get("errors").is_none(), "within every limit: {body}");

    let body = json_of(run("{ __schema { types { name } } }").await).await;
    assert!(
        body["data"]["__schema"].is_null() && body.get("errors").is_none(),
        "introspection is off, as if the schema had no such field: {body}"
    );
    let body = json_of(run("{ releases { totalCont } }").await).await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        !message.contains("Did you mean"),
        "no suggestions: {message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_its_deadline_is_stopped() {
    let limits = Limits {
        request_timeout_ms: 1,
        ..Limits::default()
    };
    let (_database, app) = seeded_app_with(limits, &[]).await;
    let response = post(
        &app,
        "application/json",
        json!({ "query": "{ releases(first: 100, filter: { search: \"labour\" }) { totalCount nodes { title related { title } } } releaseFacets { programmes { count } } }" }),
    )
    .await;
    let status = response.status();
    let body = json_of(response).await;
    assert_eq!(status, 504, "{body}");
    assert_eq!(code(&body), "TIMEOUT", "{body}");
    assert!(app.get("/healthz").await.status().is_success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_past_statement_timeout_is_reported_as_a_timeout() {
    let database = TestDatabase::new(Backend::Postgres).await;
    let settings = database::PoolSettings {
        statement_timeout: Some(Duration::from_millis(50)),
        ..database::PoolSettings::default()
    };
    let db = database::connect_with(&database.url, &settings)
        .await
        .unwrap();
    let error = db
        .execute_unprepared("SELECT pg_sleep(2)")
        .await
        .expect_err("statement_timeout stops a 2 s statement");
    assert_eq!(api::ApiError::Database(error).code(), "TIMEOUT");
}

/// Waits for the cache's change listener, which connects in the background.
async fn until_listening(cache: &ResponseCache) {
    for _ in 0..200 {
        if cache.is_listening() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the response cache never started listening for archive changes");
}

/// How many lookups `/metrics` counts with `result` (hit, miss, bypass).
async fn cache_lookups(app: &TestApp, result: &str) -> u64 {
    let name = format!("pressroom_response_cache_lookups_total{{result=\"{result}\"}}");
    metric(app, &name).await.unwrap_or(0)
}

/// The value of the series `name` (with its labels) on `/metrics`, if it is there, as a count.
async fn metric(app: &TestApp, name: &str) -> Option<u64> {
    app.metric(name).await.map(|value| value as u64)
}

/// Asks `query` until the newest release's title is `title`, for at most five seconds.
async fn until_newest_title(app: &TestApp, query: &Value, title: &str) {
    let mut last = Value::Null;
    for _ in 0..200 {
        last = json_of(post(app, GRAPHQL_RESPONSE, query.clone()).await).await;
        if last["data"]["releases"]["nodes"][0]["title"] == title {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the newest release is still not {title:?} after 5 s: {last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_queries_are_answered_from_memory_until_the_archive_changes() {
    let database = TestDatabase::postgres().await;
    let mut db = database.connect().await;
    load_listings(&db, &[seeds_dir()]).await;
    let statements = record_statements(&mut db);
    let changes = ArchiveChanges::follow(&db).expect("a listener on PostgreSQL");
    let cache = ResponseCache::new(&changes, 1 << 20).expect("a cache of 1 MiB");
    until_listening(&cache).await;
    let app =
        spawn_app_with_state(AppState::new(db).with_response_cache(Some(cache.clone()))).await;
    let writer = database.connect().await;
    let ran = || std::mem::take(&mut *statements.lock().expect("statement log"));

    let query = json!({ "query": "{ releases(first: 3) { totalCount nodes { id title programmes { slug } } } }" });
    let first = json_of(post(&app, GRAPHQL_RESPONSE, query.clone()).await).await;
    assert!(!ran().is_empty(), "the first request reads the database");
    let again = json_of(post(&app, GRAPHQL_RESPONSE, query.clone()).await).await;
    assert_eq!(again, first, "the repeated request gets the same answer");
    assert_eq!(ran(), Vec::<String>::new(), "and reads nothing");
    assert_eq!(cache_lookups(&app, "hit").await, 1);

    // The other media type is another answer, computed once.
    let as_json = json_of(post(&app, "application/json", query.clone()).await).await;
    assert_eq!(as_json, first);
    assert!(!ran().is_empty(), "a new media type runs the query");

    // GET answers are kept with their validator.
    let get_query = "{ releases(first: 1) { nodes { title } } }";
    let get = app.graphql_get(get_query, json!({})).await;
    let etag = header(&get, ETAG).to_owned();
    assert!(!etag.is_empty());
    ran();
    let get = app.graphql_get(get_query, json!({})).await;
    assert_eq!(get.status(), StatusCode::OK);
    assert_eq!(header(&get, ETAG), etag, "the same validator");
    assert_eq!(ran(), Vec::<String>::new(), "a repeated GET reads nothing");

    // Answers with errors are not kept.
    let hits = cache_lookups(&app, "hit").await;
    let refused = json!({ "query": "{ releases(first: 1000000) { totalCount } }" });
    for _ in 0..2 {
        let body = json_of(post(&app, GRAPHQL_RESPONSE, refused.clone()).await).await;
        assert_eq!(code(&body), "BAD_USER_INPUT");
    }
    assert_eq!(
        cache_lookups(&app, "hit").await,
        hits,
        "an error is never a hit"
    );
    // What it holds shows on /metrics: the two POST answers and the GET one, not the errors.
    assert_eq!(
        metric(&app, "pressroom_response_cache_entries").await,
        Some(3)
    );
    assert_eq!(
        metric(&app, "pressroom_response_cache_capacity_bytes").await,
        Some(1 << 20)
    );
    assert!(metric(&app, "pressroom_response_cache_size_bytes").await > Some(3 * 256));
    assert_eq!(
        metric(&app, "pressroom_response_cache_listening").await,
        Some(1)
    );

    // A write anywhere in the archive, committed by another connection, reaches the next answer.
    let id = first["data"]["releases"]["nodes"][0]["id"].clone();
    let newest = writer
        .query_one_raw(Statement::from_string(
            writer.get_database_backend(),
            "SELECT id FROM release ORDER BY published_on DESC, id DESC LIMIT 1",
        ))
        .await
        .ok()
        .flatten()
        .and_then(|row| row.try_get::<Uuid>("", "id").ok())
        .expect("the newest release");
    let retitle = |title: &str| {
        Statement::from_sql_and_values(
            writer.get_database_backend(),
            "UPDATE release SET title = $1 WHERE id = $2",
            [title.into(), newest.into()],
        )
    };
    writer
        .execute_raw(retitle("Retitled while cached"))
        .await
        .expect("UPDATE");
    until_newest_title(&app, &query, "Retitled while cached").await;
    let changed = json_of(post(&app, GRAPHQL_RESPONSE, query.clone()).await).await;
    assert_eq!(changed["data"]["releases"]["nodes"][0]["id"], id);

    // A listener that loses its connection stops the cache until it is back, and a change made
    // in between is not hidden by an answer kept from before.
    let terminated = writer
        .query_one_raw(Statement::from_string(
            writer.get_database_backend(),
            "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'pressroom-listener'",
        ))
        .await
        .ok()
        .flatten()
        .and_then(|row| row.try_get::<i64>("", "n").ok());
    assert_eq!(terminated, Some(1), "one listener connection");
    writer
        .execute_raw(retitle("Retitled while the listener was down"))
        .await
        .expect("UPDATE");
    until_newest_title(&app, &query, "Retitled while the listener was down").await;
    until_listening(&cache).await;
    json_of(post(&app, GRAPHQL_RESPONSE, query.clone()).await).await;
    ran();
    let cached = json_of(post(&app, GRAPHQL_RESPONSE, query.clone()).await).await;
    assert_eq!(
        cached["data"]["releases"]["nodes"][0]["title"],
        "Retitled while the listener was down"
    );
    assert_eq!(
        ran(),
        Vec::<String>::new(),
        "answers are kept again once it is back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_serves_without_a_response_cache() {
    let database = TestDatabase::sqlite().await;
    let db = database.connect().await;
    assert!(
        ArchiveChanges::follow(&db).is_none(),
        "SQLite cannot say when the archive changes"
    );
    let postgres = TestDatabase::postgres().await;
    let db = postgres.connect().await;
    let changes = ArchiveChanges::follow(&db).expect("a listener on PostgreSQL");
    assert!(
        ResponseCache::new(&changes, 0).is_none(),
        "a capacity of 0 turns it off"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_fields_come_in_the_order_the_query_asks_for_them() {
    let (_database, app) = seeded_app_with(Limits::default(), &[]).await;
    // Alphabetical order would be the reverse at both levels.
    let query = json!({ "query": "{ releases(first: 1) { totalCount nodes { title slug } } }" });
    let batch = json!([query.clone(), query.clone()]);
    for (accept, body) in [
        (GRAPHQL_RESPONSE, &query),
        ("application/json", &query),
        (GRAPHQL_RESPONSE, &batch),
    ] {
        let text = post(&app, accept, body.clone())
            .await
            .text()
            .await
            .expect("a body");
        let at = |key: &str| {
            text.find(&format!("\"{key}\""))
                .unwrap_or_else(|| panic!("{key} in {text}"))
        };
        assert!(at("totalCount") < at("nodes"), "{accept}: {text}");
        assert!(at("title") < at("slug"), "{accept}: {text}");
        if body.is_array() {
            let answers: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("a JSON array, not {text}: {e}"));
            assert_eq!(answers.as_array().map(Vec::len), Some(2), "{text}");
            assert_eq!(answers[0], answers[1]);
        }
    }
}
