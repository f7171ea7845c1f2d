//! Planned queries (`api::schema::direct`) against the schema, on PostgreSQL and SQLite. The
//! requests of `plans/requests.json` are each sent twice: as clients send them, which a plan
//! answers once the schema has answered the document, and with `x-report-cost`, which only the
//! schema answers. Both bodies must be the same bytes (the cost report aside): same fields in
//! the same order, same values, same errors. `plain` says whether a plan answers the request
//! (`/metrics` counts it) or leaves it to the schema (a value the schema refuses, or a document
//! with no plan).
//!
//! One difference is allowed, where a case lists its `rootKeys`: the schema (async-graphql 7.2)
//! writes root fields that read the database in the order they finish, a plan in the order the
//! document selects them, as the GraphQL specification orders a response. There the two
//! bodies must be equal as JSON, and the plan's must have the root keys in the document's order.

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::{Value, json};

use integration_tests::app::{TestApp, spawn_app, spawn_app_with};
use integration_tests::json::text;
use integration_tests::{
    Backend, TestDatabase, both_backends, record_statements, repo_root, seeds_dir,
};

const ANSWERED: &str = "pressroom_graphql_plans_total{outcome=\"answered\"}";

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    plain: bool,
    query: String,
    #[serde(default)]
    variables: Value,
    #[serde(default, rename = "operationName")]
    operation_name: Option<String>,
    /// The response keys of the root fields, in the document's order, when the schema may
    /// write them in another.
    #[serde(default, rename = "rootKeys")]
    root_keys: Vec<String>,
}

fn cases() -> Vec<Case> {
    let path: PathBuf = repo_root().join("tests/plans/requests.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The status and body of one POST of `body`; `schema_only` asks for the cost report, which
/// no plan gives, and returns the body without it.
async fn post(app: &TestApp, body: &Value, schema_only: bool) -> (u16, String) {
    let mut request = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if schema_only {
        request = request.header("x-report-cost", "1");
    }
    let response = request.send().await.expect("POST /graphql");
    let status = response.status().as_u16();
    let mut text = response.text().await.expect("a body");
    // The report is `,"extensions":{"cost":{…}}`, its object flat.
    if schema_only && let Some(at) = text.find(",\"extensions\":{\"cost\":{") {
        let end = text[at..].find("}}").expect("the cost report ends") + at + 2;
        text.replace_range(at..end, "");
    }
    (status, text)
}

async fn answered(app: &TestApp) -> f64 {
    app.metric(ANSWERED).await.unwrap_or(0.0)
}

/// Replaces the placeholders `$SLUG` and `$CURSOR` of the cases by a real release's slug and
/// the cursor after the fifth newest release.
fn fill(value: &Value, slug: &str, cursor: &str) -> Value {
    match value {
        Value::String(s) if s == "$SLUG" => json!(slug),
        Value::String(s) if s == "$CURSOR" => json!(cursor),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(name, value)| (name.clone(), fill(value, slug, cursor)))
                .collect(),
        ),
        other => other.clone(),
    }
}

async fn planned_answers_are_the_schemas_byte_for_byte(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let app = spawn_app(&database).await;
    let newest = app
        .data(
            "{ releases(first: 5) { nodes { slug } pageInfo { endCursor } } }",
            json!({}),
        )
        .await;
    let slug = text(&newest["releases"]["nodes"][0]["slug"]);
    let cursor = text(&newest["releases"]["pageInfo"]["endCursor"]);
    let mut planned = 0;
    for case in cases() {
        let mut body =
            json!({ "query": case.query, "variables": fill(&case.variables, &slug, &cursor) });
        if let Some(name) = &case.operation_name {
            body["operationName"] = json!(name);
        }
        // The first time, the schema answers it (and its plan, if any, is kept).
        post(&app, &body, false).await;
        let before = answered(&app).await;
        let (status, by_plan) = post(&app, &body, false).await;
        let after = answered(&app).await;
        let (schema_status, by_schema) = post(&app, &body, true).await;
        if case.root_keys.is_empty() {
            assert_eq!(
                (status, &by_plan),
                (schema_status, &by_schema),
                "{backend:?}, {}: the planned answer differs from the schema's",
                case.name
            );
        } else {
            let json = |text: &str| serde_json::from_str::<Value>(text).expect("JSON");
            assert_eq!(
                (status, json(&by_plan)),
                (schema_status, json(&by_schema)),
                "{backend:?}, {}: the planned answer differs from the schema's",
                case.name
            );
            let at = |key: &String| by_plan.find(&format!("\"{key}\":")).expect("a root key");
            let positions: Vec<usize> = case.root_keys.iter().map(at).collect();
            assert!(
                positions.is_sorted(),
                "{}: root keys in the document's order: {by_plan}",
                case.name
            );
        }
        let by_plan_answered = after - before == 1.0;
        assert_eq!(
            by_plan_answered, case.plain,
            "{backend:?}, {}: answered by a plan: {by_plan_answered}, expected {} ({by_plan})",
            case.name, case.plain
        );
        if case.plain {
            planned += 1;
            let body: Value = serde_json::from_str(&by_plan).expect("JSON");
            assert!(body.get("errors").is_none(), "{}: {body}", case.name);
        }
    }
    assert!(planned >= 10, "most cases are plain: {planned}");
}

/// A plan reads what the schema reads: the same statements, as many of them.
async fn a_plan_runs_the_statements_the_schema_runs(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let mut db = database.connect().await;
    integration_tests::app::load_listings(&db, &[seeds_dir()]).await;
    let statements = record_statements(&mut db);
    let app = spawn_app_with(db).await;
    let requests = [
        json!({"query": "{ releases(first: 20, filter: {programmes: [\"score\"]}) { totalCount nodes { slug programmes { slug } offices { name } } } }"}),
        json!({"query": "query ($s: String!) { release(slug: $s) { title programmes { name } related(first: 3) { slug } } }", "variables": {"s": "no-such-release"}}),
        json!({"query": "{ releaseFacets(filter: {year: 2017}) { total months { month count } } }"}),
    ];
    for body in requests {
        let run = async |schema_only| {
            statements.lock().expect("statement log").clear();
            let (status, answer) = post(&app, &body, schema_only).await;
            assert_eq!(status, 200, "{answer}");
            std::mem::take(&mut *statements.lock().expect("statement log"))
        };
        run(false).await;
        let before = answered(&app).await;
        let mut planned = run(false).await;
        assert_eq!(answered(&app).await - before, 1.0, "{body}: planned");
        let mut schema = run(true).await;
        // Concurrent reads may log in either order.
        planned.sort();
        schema.sort();
        assert_eq!(planned, schema, "{backend:?}, {body}");
    }
}

both_backends!(
    planned_answers_are_the_schemas_byte_for_byte,
    a_plan_runs_the_statements_the_schema_runs,
);
