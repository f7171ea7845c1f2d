//! What operators see of the running server: `/metrics` (GraphQL operations by name and outcome,
//! pool use, archive figures), the request id on every response, and bounded label sets however
//! many operation names clients invent.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use uuid::Uuid;

use integration_tests::app::{TestApp, spawn_app};
use integration_tests::{Backend, TestDatabase, both_backends, prepare_listings, seed_listings};

/// One line of the exposition: `name{label="value",…} value`.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// The samples of a text exposition. Label values here never hold `"` or `,`, so a split on
/// those is enough.
fn parse_exposition(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (series, value) = line
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("a sample is `series value`: {line}"));
            let value: f64 = value
                .parse()
                .unwrap_or_else(|e| panic!("not a number in {line}: {e}"));
            let (name, labels) = match series.split_once('{') {
                None => (series, BTreeMap::new()),
                Some((name, rest)) => {
                    let labels = rest
                        .trim_end_matches('}')
                        .split(',')
                        .filter(|pair| !pair.is_empty())
                        .map(|pair| {
                            let (key, value) = pair
                                .split_once('=')
                                .unwrap_or_else(|| panic!("a label is key=\"value\": {line}"));
                            (key.to_owned(), value.trim_matches('"').to_owned())
                        })
                        .collect();
                    (name, labels)
                }
            };
            Sample {
                name: name.to_owned(),
                labels,
                value,
            }
        })
        .collect()
}

/// What `/metrics` says now.
async fn scrape(app: &TestApp) -> Vec<Sample> {
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200, "GET /metrics");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "a content type Prometheus negotiates: {content_type}"
    );
    let text = response.text().await.expect("GET /metrics has no body");
    assert!(text.ends_with("# EOF\n"), "a complete exposition: {text}");
    parse_exposition(&text)
}

/// The value of the one sample named `name` with (at least) `labels`.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let matching: Vec<&Sample> = samples
        .iter()
        .filter(|sample| {
            sample.name == name
                && labels
                    .iter()
                    .all(|(key, value)| sample.labels.get(*key).map(String::as_str) == Some(value))
        })
        .collect();
    assert!(
        matching.len() <= 1,
        "{name} {labels:?} matches several series: {matching:?}"
    );
    matching.first().map(|sample| sample.value)
}

/// POSTs a GraphQL request body as a frontend would and returns the JSON answer, whatever the
/// status (errors have their own status rules).
async fn post_graphql(app: &TestApp, body: Value) -> Value {
    app.client
        .post(app.url("/graphql"))
        .header("accept", "application/json")
        .json(&body)
        .send()
        .await
        .expect("POST /graphql failed")
        .json()
        .await
        .expect("POST /graphql answered without JSON")
}

/// A named query and a failing one show up under their names and outcomes; the pool and the
/// archive figures are there.
async fn operations_are_counted_by_name_and_outcome(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let app = spawn_app(&database).await;

    // The name comes from the document: clients such as curl users do not send
    // `operationName` for a single operation.
    let answer = post_graphql(
        &app,
        json!({ "query": "query ProgrammeSlugs { programmes { slug } }" }),
    )
    .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let answer = post_graphql(
        &app,
        json!({
            "query": "query ScoreReleases { releases(filter: { programmes: [\"scor\"] }) { totalCount } }",
            "operationName": "ScoreReleases",
        }),
    )
    .await;
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{answer}"
    );

    let samples = scrape(&app).await;
    let ok = [("operation", "ProgrammeSlugs"), ("outcome", "ok")];
    assert_eq!(
        value(&samples, "pressroom_graphql_requests_total", &ok),
        Some(1.0)
    );
    assert_eq!(
        value(
            &samples,
            "pressroom_graphql_request_duration_seconds_count",
            &ok
        ),
        Some(1.0)
    );
    let sum = value(
        &samples,
        "pressroom_graphql_request_duration_seconds_sum",
        &ok,
    );
    assert!(sum.is_some_and(|s| s > 0.0), "time was measured: {sum:?}");
    let in_every_bucket = [
        ("operation", "ProgrammeSlugs"),
        ("outcome", "ok"),
        ("le", "+Inf"),
    ];
    assert_eq!(
        value(
            &samples,
            "pressroom_graphql_request_duration_seconds_bucket",
            &in_every_bucket
        ),
        Some(1.0)
    );
    let failed = [
        ("operation", "ScoreReleases"),
        ("outcome", "bad_user_input"),
    ];
    assert_eq!(
        value(&samples, "pressroom_graphql_requests_total", &failed),
        Some(1.0)
    );
    assert_eq!(
        value(
            &samples,
            "pressroom_graphql_requests_total",
            &[("operation", "ScoreReleases"), ("outcome", "ok")]
        ),
        None,
        "a failed operation is not counted as ok"
    );
    let graphql_posts: f64 = samples
        .iter()
        .filter(|s| {
            s.name == "pressroom_http_requests_total"
                && s.labels.get("route").map(String::as_str) == Some("/graphql")
        })
        .map(|s| s.value)
        .sum();
    assert_eq!(graphql_posts, 2.0, "both POSTs counted by route");

    let idle = value(
        &samples,
        "pressroom_db_pool_connections",
        &[("state", "idle")],
    );
    let in_use = value(
        &samples,
        "pressroom_db_pool_connections",
        &[("state", "in_use")],
    );
    let idle = idle.expect("the idle pool gauge is exported");
    let in_use = in_use.expect("the in-use pool gauge is exported");
    assert!(
        idle + in_use >= 1.0,
        "the queries above opened a connection: idle {idle}, in use {in_use}"
    );
    let max = value(&samples, "pressroom_db_pool_max_connections", &[]);
    assert!(max.is_some_and(|max| max >= idle + in_use), "max {max:?}");

    let seed_releases = prepare_listings(&seed_listings()).releases.len() as f64;
    assert_eq!(
        value(&samples, "pressroom_archive_stats_up", &[]),
        Some(1.0)
    );
    assert_eq!(
        value(&samples, "pressroom_archive_releases", &[]),
        Some(seed_releases)
    );
    assert_eq!(
        value(
            &samples,
            "pressroom_ingest_last_run_releases",
            &[("change", "inserted")]
        ),
        Some(seed_releases),
        "the test server's load of the seeds is the last run"
    );
    assert_eq!(
        value(
            &samples,
            "pressroom_ingest_last_run_releases",
            &[("change", "unchanged")]
        ),
        Some(0.0)
    );
    let finished = value(
        &samples,
        "pressroom_ingest_last_run_finished_timestamp_seconds",
        &[],
    );
    assert!(
        finished.is_some_and(|t| t > 1.7e9),
        "a recent Unix time: {finished:?}"
    );
}

both_backends!(operations_are_counted_by_name_and_outcome);

/// Every response carries `x-request-id`: the client's own when it sent a usable one, else a
/// fresh UUID.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_a_request_id() {
    let database = TestDatabase::new(Backend::Postgres).await;
    let app = spawn_app(&database).await;
    let id_of = |response: &reqwest::Response| {
        response
            .headers()
            .get("x-request-id")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no x-request-id in {response:?}"))
    };

    let first = id_of(&app.get("/healthz").await);
    let second = id_of(&app.get("/healthz").await);
    for id in [&first, &second] {
        assert!(
            Uuid::parse_str(id).is_ok(),
            "a generated id is a UUID: {id}"
        );
    }
    assert_ne!(first, second, "each request gets its own id");

    let sent = app
        .client
        .post(app.url("/graphql"))
        .header("x-request-id", "frontend-7f3a:42")
        .json(&json!({ "query": "{ offices { slug } }" }))
        .send()
        .await
        .expect("POST /graphql failed");
    assert_eq!(id_of(&sent), "frontend-7f3a:42", "a sane client id is kept");

    let not_found = app
        .client
        .get(app.url("/no-such-page"))
        .header("x-request-id", "abc")
        .send()
        .await
        .expect("GET failed");
    assert_eq!(not_found.status(), 404);
    assert_eq!(id_of(&not_found), "abc", "unknown paths too");

    for unusable in ["two words", &"x".repeat(200), "quote\"injection"] {
        let replaced = app
            .client
            .get(app.url("/healthz"))
            .header("x-request-id", unusable)
            .send()
            .await
            .expect("GET /healthz failed");
        let id = id_of(&replaced);
        assert!(
            Uuid::parse_str(&id).is_ok(),
            "an unusable client id ({unusable:?}) is replaced by a UUID, got {id}"
        );
    }
}

/// Operation names are chosen by clients: 300 distinct ones still give at most
/// `MAX_OPERATION_NAMES` named series, the rest counted as `other`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operation_labels_stay_bounded() {
    let database = TestDatabase::new(Backend::Postgres).await;
    let app = spawn_app(&database).await;
    let names = 300;
    for i in 0..names {
        let answer = post_graphql(
            &app,
            json!({ "query": format!("query Generated{i} {{ __typename }}") }),
        )
        .await;
        assert!(answer.get("errors").is_none(), "{answer}");
    }
    // Not a GraphQL name: counted as anonymous, whatever the server answers.
    post_graphql(
        &app,
        json!({ "query": "{ __typename }", "operationName": "no such name; drop" }),
    )
    .await;

    let samples = scrape(&app).await;
    let operations: BTreeSet<&str> = samples
        .iter()
        .filter(|s| s.name == "pressroom_graphql_requests_total")
        .filter_map(|s| s.labels.get("operation").map(String::as_str))
        .collect();
    let cap = api::ops::metrics::MAX_OPERATION_NAMES;
    assert!(
        operations.len() <= cap + 2,
        "{} distinct operation labels, more than {cap} names plus `other` and `anonymous`",
        operations.len()
    );
    assert!(
        operations.contains("Generated0"),
        "the first names are kept"
    );
    assert!(operations.contains("anonymous"), "{operations:?}");
    let other: f64 = samples
        .iter()
        .filter(|s| {
            s.name == "pressroom_graphql_requests_total"
                && s.labels.get("operation").map(String::as_str) == Some("other")
        })
        .map(|s| s.value)
        .sum();
    assert_eq!(
        other,
        (names - cap) as f64,
        "every operation past the cap is still counted"
    );
}
