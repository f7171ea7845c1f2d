//! Hostile and broken traffic against the real server (in the `timing` binary): each request of the battery must be
//! refused (or answered) quickly with the right status and code, leave the data untouched, and
//! leave the server serving normal queries with its memory where it was.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use integration_tests::TestDatabase;
use integration_tests::app::{TestApp, spawn_app};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{Value, json};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
/// Each request of the battery is sent this many times; its median time is what counts.
const ROUNDS: usize = 5;
/// Every answer of the battery must come faster than this (median of `ROUNDS`).
const QUICK: Duration = Duration::from_millis(50);
/// How much the server's memory may grow over the whole battery.
const MEMORY_GROWTH_LIMIT_KB: i64 = 50 * 1024;

/// One hostile request and what the server must answer.
struct Attack {
    name: &'static str,
    request: reqwest::RequestBuilder,
    status: u16,
    /// `extensions.code` of the first error; `None`: the response must have no errors.
    code: Option<&'static str>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hostile_query_battery_is_refused_quickly_and_harmlessly() {
    let _turn = crate::exclusive().await;
    let database = TestDatabase::postgres().await;
    let app = spawn_app(&database).await;
    let normal = "{ releases(first: 3) { totalCount nodes { slug programmes { slug } } } }";
    let expected = app.data(normal, json!({})).await;
    // Warm up every code path once, so the memory baseline includes what any first request
    // allocates for good (schema caches, pools, buffers).
    for attack in attacks(&app) {
        attack.request.send().await.ok();
    }
    let rss_before = resident_kb();

    let mut failures = Vec::new();
    let mut answers: Vec<(String, u16, String, Vec<Duration>)> = Vec::new();
    for round in 0..ROUNDS {
        for (index, attack) in attacks(&app).into_iter().enumerate() {
            let started = Instant::now();
            let response = attack
                .request
                .send()
                .await
                .unwrap_or_else(|e| panic!("{}: no answer: {e}", attack.name));
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            let elapsed = started.elapsed();
            let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            let code = json["errors"][0]["extensions"]["code"].as_str();
            if round == 0 {
                answers.push((
                    attack.name.to_owned(),
                    status,
                    code.unwrap_or("-").to_owned(),
                    Vec::new(),
                ));
            }
            answers[index].3.push(elapsed);
            if status != attack.status || code != attack.code {
                failures.push(format!(
                    "{}: expected {} {:?}, got {status} {code:?}: {}",
                    attack.name,
                    attack.status,
                    attack.code,
                    body.chars().take(400).collect::<String>()
                ));
            }
            if let Some(message) = json["errors"][0]["message"].as_str() {
                for internal in ["sqlx", "SELECT", "pg_", "panicked", "stack"] {
                    if message.contains(internal) {
                        failures.push(format!(
                            "{}: message leaks internals: {message}",
                            attack.name
                        ));
                    }
                }
            }
        }
    }
    let mut table = String::from("| attack | status | code | median time |\n|---|---|---|---|\n");
    for (name, status, code, mut times) in answers {
        times.sort();
        let median = times[times.len() / 2];
        writeln!(
            table,
            "| {name} | {status} | {code} | {:.1} ms |",
            median.as_secs_f64() * 1000.0
        )
        .ok();
        if median > QUICK {
            failures.push(format!("{name}: answered in {median:?} (median)"));
        }
    }
    println!("{table}");

    let after = app.data(normal, json!({})).await;
    assert_eq!(after, expected, "a normal query still gets the same answer");
    let releases: Value = app.data("{ releases { totalCount } }", json!({})).await;
    assert_eq!(
        releases["releases"]["totalCount"], 40,
        "no data was lost or added"
    );
    let growth = resident_kb() - rss_before;
    println!("memory growth over the battery: {growth} kB");
    assert!(
        growth < MEMORY_GROWTH_LIMIT_KB,
        "the server grew by {growth} kB over the battery"
    );
    assert!(failures.is_empty(), "{}\n{table}", failures.join("\n"));
}

/// The battery, built afresh for each round (requests cannot be sent twice).
fn attacks(app: &TestApp) -> Vec<Attack> {
    let post = |body: String| {
        app.client
            .post(app.url("/graphql"))
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, GRAPHQL_RESPONSE)
            .body(body)
    };
    let query = |document: &str| post(json!({ "query": document }).to_string());

    let mut cycle = String::from("{ releases { nodes { title");
    for _ in 0..50 {
        cycle.push_str(" programmes { releases { nodes { title");
    }
    cycle.push_str(&" } } }".repeat(50));
    cycle.push_str(" } } }");

    let aliases: String = (0..1000).map(|i| format!("a{i}:__typename ")).collect();
    let duplicated = format!("{{ releases {{ {} }} }}", "totalCount ".repeat(10_000));
    let braces = format!("{}{}", "{a".repeat(5_000), "}".repeat(5_000));
    let batch: Vec<Value> = (0..500)
        .map(|_| json!({ "query": "{ releases { totalCount } }" }))
        .collect();
    let two_megabytes = format!("{{ releases {{ totalCount }} }} #{}", "x".repeat(2 << 20));
    let sql = "'; DROP TABLE release; --";
    let metacharacters = json!({
        "query": "query($s: String!, $l: [String!]!) {
            release(slug: $s) { id }
            programme(slug: $s) { slug }
            office(slug: $s) { slug }
            node(id: $s) { id }
            releases(filter: { search: $s, programmes: $l, offices: $l }, after: $s) { totalCount }
        }",
        "variables": { "s": sql, "l": [sql, "%", "_", "\\", "\""] },
    });

    let mut attacks = vec![
        Attack {
            name: "50-deep releases → programmes → releases cycle",
            request: query(&cycle),
            status: 400,
            code: Some("QUERY_TOO_DEEP"),
        },
        Attack {
            name: "1,000 aliases",
            request: query(&format!("{{ {aliases} }}")),
            status: 400,
            code: Some("TOO_MANY_ALIASES"),
        },
        Attack {
            name: "10,000 duplicated fields",
            request: query(&duplicated),
            status: 400,
            code: Some("DOCUMENT_TOO_LARGE"),
        },
        Attack {
            name: "5,000 nested selection sets",
            request: query(&braces),
            status: 400,
            code: Some("QUERY_TOO_DEEP"),
        },
        Attack {
            name: "batch of 500 operations",
            request: post(Value::Array(batch).to_string()),
            status: 400,
            code: Some("BATCH_TOO_LARGE"),
        },
        Attack {
            name: "circular fragments",
            request: query(
                "{ ...A } fragment A on Query { releases { totalCount } ...B } fragment B on Query { ...A }",
            ),
            status: 400,
            code: Some("QUERY_TOO_DEEP"),
        },
        Attack {
            name: "2 MB query",
            request: query(&two_megabytes),
            status: 413,
            code: Some("PAYLOAD_TOO_LARGE"),
        },
        // Page sizes are checked by the field before it queries anything, with a message
        // naming the allowed range; the field's error makes `data` null, hence 200.
        Attack {
            name: "first: 1000000",
            request: query("{ releases(first: 1000000) { totalCount } }"),
            status: 200,
            code: Some("BAD_USER_INPUT"),
        },
        Attack {
            name: "malformed JSON",
            request: post("{\"query\": \"{ releases { totalCount } }\"".to_owned()),
            status: 400,
            code: Some("BAD_USER_INPUT"),
        },
        Attack {
            name: "wrong content type",
            request: app
                .client
                .post(app.url("/graphql"))
                .header(CONTENT_TYPE, "text/plain")
                .header(ACCEPT, GRAPHQL_RESPONSE)
                .body("{ releases { totalCount } }"),
            status: 415,
            code: Some("BAD_USER_INPUT"),
        },
        Attack {
            name: "empty body",
            request: post(String::new()),
            status: 400,
            code: Some("BAD_USER_INPUT"),
        },
        Attack {
            name: "invalid UTF-8",
            request: app
                .client
                .post(app.url("/graphql"))
                .header(CONTENT_TYPE, "application/json")
                .header(ACCEPT, GRAPHQL_RESPONSE)
                .body(b"{\"query\": \"{ releases \xff\xfe { totalCount } }\"}".to_vec()),
            status: 400,
            code: Some("BAD_USER_INPUT"),
        },
        Attack {
            name: "GET with a mutation",
            request: app
                .client
                .get(app.url("/graphql"))
                .query(&[("query", "mutation { anything }")])
                .header(ACCEPT, GRAPHQL_RESPONSE),
            status: 405,
            code: Some("BAD_USER_INPUT"),
        },
        Attack {
            name: "SQL metacharacters in every string argument",
            request: post(metacharacters.to_string()),
            status: 200,
            code: Some("BAD_USER_INPUT"),
        },
    ];
    // Search text that is odd but legal is searched (an empty or sensible answer, no error);
    // only a text over the length limit is refused. Suggestions likewise.
    let searched = |text: String| {
        post(
            json!({
                "query": "query($text: String!) { releases(filter: { search: $text }, orderBy: RELEVANCE) { totalCount searchCorrections { word } nodes { highlight } } releaseFacets(filter: { search: $text }) { total } searchSuggestions(text: $text) { words { word count } } }",
                "variables": { "text": text }
            })
            .to_string(),
        )
    };
    let search_attacks: [(&'static str, String, Option<&'static str>); 10] = [
        (
            "search over the length limit",
            "workshop ".repeat(60),
            Some("BAD_USER_INPUT"),
        ),
        (
            "search of stop words only",
            "the of and is".to_owned(),
            None,
        ),
        (
            "search of exclusions only",
            "-china -workshop".to_owned(),
            None,
        ),
        (
            "search with unbalanced quotes",
            "\"social security".to_owned(),
            None,
        ),
        (
            "search with control characters",
            "work\u{0}shop\u{7}\u{1b}[31m".to_owned(),
            None,
        ),
        ("search of emoji", "🔥🦀 workshop 👷".to_owned(), None),
        ("search in Chinese", "国际劳工组织 就业".to_owned(), None),
        ("search of one 500-character word", "a".repeat(500), None),
        ("search of punctuation", "!!! ??? ... ---".to_owned(), None),
        (
            "search of a misspelt long word",
            "aprenticeshiiip".to_owned(),
            None,
        ),
    ];
    attacks.extend(search_attacks.into_iter().map(|(name, text, code)| Attack {
        name,
        request: searched(text),
        status: 200,
        code,
    }));
    attacks.push(Attack {
        name: "suggestions for an empty text",
        request: query("{ searchSuggestions(text: \"\") { words { word } programmes { slug } } }"),
        status: 200,
        code: None,
    });
    attacks.push(Attack {
        name: "suggestions with a search in the filter",
        request: query(
            "{ searchSuggestions(text: \"wor\", filter: { search: \"x\" }) { words { word } } }",
        ),
        status: 200,
        code: Some("BAD_USER_INPUT"),
    });
    attacks
}

/// The resident memory of this process (the server runs in it), in kB.
fn resident_kb() -> i64 {
    let status =
        std::fs::read_to_string("/proc/self/status").expect("cannot read /proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("no VmRSS in /proc/self/status")
}
