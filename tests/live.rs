//! Live updates on real databases: the order and uniqueness of events, replay after a cursor
//! (an event's or a `releases` one), changed and pruned releases, a search subscription that
//! gets exactly what `releases` lists, refusals with their codes, and SQLite's refusal. The
//! subscriptions run through the server's own schema and hub, with the ingest a user would run;
//! the transports (WebSocket, SSE) are exercised by real clients in `clients.rs`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use api::AppState;
use api::ops::archive_changes::ArchiveChanges;
use api::schema::loaders::subscription_data_loader;
use futures::StreamExt;
use futures::stream::BoxStream;
use integration_tests::app::{load_listings, spawn_app_with_state};
use integration_tests::{Backend, TestDatabase, catalogue_path, seeds_dir};
use serde_json::{Value, json};

/// Longer than any delivery takes on a loaded machine.
const DELIVERY: Duration = Duration::from_secs(10);
/// How long a test waits to be sure that nothing more comes.
const QUIET: Duration = Duration::from_millis(1500);

const EVENT_FIELDS: &str = "kind cursor releaseId release { title summary publishedOn programmes { slug } offices { slug } }";

/// A server state over a fresh PostgreSQL archive loaded with the seeds, following its changes.
async fn live_archive() -> (TestDatabase, AppState) {
    let database = TestDatabase::postgres().await;
    let db = database.connect().await;
    load_listings(&db, &[seeds_dir()]).await;
    let changes = ArchiveChanges::follow(&db).expect("a listener on PostgreSQL");
    let state = AppState::new(db).following(&changes);
    for _ in 0..100 {
        if changes.is_listening() {
            return (database, state);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the archive-change listener did not connect within 5 s");
}

/// A subscription run by the schema, as a transport would run it (its own task polls it, as a
/// connection would), once the hub counts it: what commits from then on is delivered.
async fn subscribe(state: &AppState, query: &str, variables: Value) -> Events {
    let before = state.live.subscriptions();
    let events = start(state, query, variables);
    for _ in 0..200 {
        if state.live.subscriptions() > before {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the subscription did not start within 5 s");
}

/// A subscription started without waiting for it (one that is refused never counts).
fn start(state: &AppState, query: &str, variables: Value) -> Events {
    let request = async_graphql::Request::new(query)
        .variables(async_graphql::Variables::from_json(variables))
        .data(subscription_data_loader(state.store.clone()));
    let mut responses = state.schema.execute_stream(request);
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(response) = responses.next().await {
            let json = serde_json::to_value(&response).expect("a response is JSON");
            if sender.send(json).is_err() {
                return;
            }
        }
    });
    tokio_stream_of(receiver)
}

type Events = BoxStream<'static, Value>;

fn tokio_stream_of(mut receiver: tokio::sync::mpsc::UnboundedReceiver<Value>) -> Events {
    futures::stream::poll_fn(move |cx| receiver.poll_recv(cx)).boxed()
}

/// The next response, within the delivery time.
async fn next(stream: &mut Events) -> Value {
    tokio::time::timeout(DELIVERY, stream.next())
        .await
        .unwrap_or_else(|_| panic!("no event within {DELIVERY:?}"))
        .expect("the subscription went on")
}

/// The next `n` events, each checked to have no errors.
async fn events(stream: &mut Events, n: usize) -> Vec<Value> {
    let mut events = Vec::with_capacity(n);
    for _ in 0..n {
        let response = next(stream).await;
        assert!(
            response.get("errors").is_none(),
            "an event failed: {response}"
        );
        events.push(response["data"]["releaseEvents"].clone());
    }
    events
}

/// Asserts that nothing arrives for a while.
async fn nothing_more(stream: &mut Events, why: &str) {
    if let Ok(Some(response)) = tokio::time::timeout(QUIET, stream.next()).await {
        panic!("{why}, yet this arrived: {response}");
    }
}

fn titles(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|event| {
            event["release"]["title"]
                .as_str()
                .unwrap_or("(removed)")
                .to_owned()
        })
        .collect()
}

/// A listing file of `items` (title, date as written, summary) published by the Beijing office.
fn write_listing(dir: &Path, name: &str, items: &[(&str, &str, &str)]) -> PathBuf {
    let mut text = String::from("News and press releases\n\n");
    for (number, (title, date, summary)) in items.iter().enumerate() {
        text.push_str(&format!(
            "  {}. {title}\n\n    {date}\n\n    {summary}\n\n",
            number + 1
        ));
    }
    let path = dir.join(format!("ilo-beijing-{name}.txt"));
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    path
}

async fn prune_to(state: &AppState, paths: &[PathBuf]) {
    ingest::ingest_paths(
        &state.db,
        &catalogue_path(),
        paths,
        ingest::LoadOptions { prune: true },
        &ingest::NoProgress,
    )
    .await
    .unwrap_or_else(|e| panic!("cannot prune to {paths:?}: {e}"));
}

fn code(response: &Value) -> String {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {response}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publications_updates_and_removals_arrive_in_commit_order_once_each() {
    let (_database, state) = live_archive().await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let query = format!("subscription {{ releaseEvents {{ {EVENT_FIELDS} }} }}");
    let mut stream = subscribe(&state, &query, json!({})).await;

    // An old release ingested today is news: the stream follows commits, not dates.
    let first = write_listing(
        dir.path(),
        "live-a",
        &[
            (
                "Herders adapt to a changing climate",
                "03 March 2022",
                "Herders in Mongolia meet.",
            ),
            (
                "An archive find from 2009",
                "05 May 2009",
                "Found in a drawer.",
            ),
        ],
    );
    load_listings(&state.db, std::slice::from_ref(&first)).await;
    let published = events(&mut stream, 2).await;
    assert_eq!(
        titles(&published),
        [
            "Herders adapt to a changing climate",
            "An archive find from 2009"
        ]
    );
    assert!(
        published.iter().all(|event| event["kind"] == "PUBLISHED"),
        "{published:?}"
    );
    assert_eq!(published[1]["release"]["publishedOn"], "2009-05-05");
    assert_eq!(published[0]["release"]["offices"][0]["slug"], "beijing");

    load_listings(&state.db, std::slice::from_ref(&first)).await;
    nothing_more(&mut stream, "an unchanged re-ingest must not redeliver").await;

    let changed = write_listing(
        dir.path(),
        "live-a",
        &[
            (
                "Herders adapt to a changing climate",
                "03 March 2022",
                "Herders in Mongolia met in Ulaanbaatar.",
            ),
            (
                "An archive find from 2009",
                "05 May 2009",
                "Found in a drawer.",
            ),
        ],
    );
    load_listings(&state.db, std::slice::from_ref(&changed)).await;
    let updated = events(&mut stream, 1).await;
    assert_eq!(updated[0]["kind"], "UPDATED");
    assert_eq!(
        updated[0]["release"]["summary"],
        "Herders in Mongolia met in Ulaanbaatar."
    );

    let kept = write_listing(
        dir.path(),
        "live-a",
        &[(
            "Herders adapt to a changing climate",
            "03 March 2022",
            "Herders in Mongolia met in Ulaanbaatar.",
        )],
    );
    let mut everything = vec![kept];
    everything.extend(integration_tests::seed_listings());
    prune_to(&state, &everything).await;
    let removed = events(&mut stream, 1).await;
    assert_eq!(removed[0]["kind"], "REMOVED");
    assert_eq!(removed[0]["release"], Value::Null);
    assert_eq!(removed[0]["releaseId"], published[1]["releaseId"]);
    nothing_more(&mut stream, "one removal, one event").await;

    let cursors: Vec<&str> = published
        .iter()
        .chain(&updated)
        .chain(&removed)
        .map(|event| event["cursor"].as_str().expect("a cursor"))
        .collect();
    let mut distinct = cursors.clone();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        4,
        "every event has its own cursor: {cursors:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_after_a_cursor_misses_nothing_and_repeats_nothing() {
    let (_database, state) = live_archive().await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let query = format!(
        "subscription($after: String) {{ releaseEvents(after: $after, kinds: [PUBLISHED]) {{ {EVENT_FIELDS} }} }}"
    );
    let mut first = subscribe(&state, &query, json!({})).await;
    let ingest_one = |n: usize| {
        let path = write_listing(
            dir.path(),
            &format!("resume-{n}"),
            &[(
                &format!("Resumed release number {n}"),
                "01 June 2023",
                "A summary.",
            )],
        );
        let db = state.db.clone();
        async move { load_listings(&db, &[path]).await }
    };
    ingest_one(1).await;
    let received = events(&mut first, 1).await;
    let cursor = received[0]["cursor"].as_str().expect("a cursor").to_owned();
    drop(first);

    // Gone: two releases are published meanwhile, then it comes back while a third is.
    ingest_one(2).await;
    ingest_one(3).await;
    let mut resumed = subscribe(&state, &query, json!({ "after": cursor })).await;
    let (caught_up, ()) = futures::join!(events(&mut resumed, 3), ingest_one(4));
    assert_eq!(
        titles(&caught_up),
        [
            "Resumed release number 2",
            "Resumed release number 3",
            "Resumed release number 4"
        ]
    );
    nothing_more(&mut resumed, "every release came once").await;

    // A cursor from `releases` stands for that release's place in the stream.
    let listed = state_query(
        &state,
        r#"{ releases(filter: { search: "Resumed release number 2" }, first: 1) { edges { cursor node { title } } } }"#,
    )
    .await;
    let edge = &listed["releases"]["edges"][0];
    assert_eq!(edge["node"]["title"], "Resumed release number 2");
    let mut from_list = subscribe(&state, &query, json!({ "after": edge["cursor"] })).await;
    let after_it = events(&mut from_list, 2).await;
    assert_eq!(
        titles(&after_it),
        ["Resumed release number 3", "Resumed release number 4"]
    );
    nothing_more(
        &mut from_list,
        "the replay ends where the live stream begins",
    )
    .await;
}

async fn state_query(state: &AppState, query: &str) -> Value {
    let request = async_graphql::Request::new(query).data(
        api::schema::loaders::request_data_loader(state.store.clone()),
    );
    let response = state.schema.execute(request).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    response.data.into_json().expect("data is JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filtered_subscription_gets_exactly_what_releases_lists() {
    let (_database, state) = live_archive().await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let filter =
        json!({ "search": "herder or \"green jobs\" -china", "publishedFrom": "2022-01-01" });
    let query = format!(
        "subscription($filter: ReleaseFilter) {{ releaseEvents(filter: $filter) {{ {EVENT_FIELDS} }} }}"
    );
    let mut searched = subscribe(&state, &query, json!({ "filter": filter })).await;
    let mut by_programme = subscribe(
        &state,
        &query,
        json!({ "filter": { "programmes": ["score"] } }),
    )
    .await;
    let listing = write_listing(
        dir.path(),
        "search",
        &[
            (
                "Herders' cooperatives grow",
                "02 February 2022",
                "Mongolian herders organise.",
            ),
            (
                "Green jobs for young people",
                "03 February 2022",
                "A new programme starts.",
            ),
            (
                "Green jobs in China",
                "04 February 2022",
                "Green jobs grow in China.",
            ),
            ("Herding in 2019", "04 February 2019", "Herders then."),
            (
                "SCORE training for factories",
                "05 February 2022",
                "Factories learn.",
            ),
            ("Nothing to see", "06 February 2022", "Unrelated text."),
        ],
    );
    load_listings(&state.db, &[listing]).await;
    let listed = state_query(
        &state,
        r#"{ releases(filter: { search: "herder or \"green jobs\" -china", publishedFrom: "2022-01-01" }, orderBy: OLDEST_FIRST, first: 100) { nodes { title } } }"#,
    )
    .await;
    let mut expected: Vec<String> = listed["releases"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|node| node["title"].as_str().expect("a title").to_owned())
        .collect();
    expected.sort();
    assert_eq!(
        expected,
        ["Green jobs for young people", "Herders' cooperatives grow"],
        "the listing's own answer"
    );
    let mut delivered = titles(&events(&mut searched, expected.len()).await);
    delivered.sort();
    assert_eq!(
        delivered, expected,
        "the subscription matches as `releases` does"
    );
    nothing_more(&mut searched, "nothing else matches the search").await;

    let score = events(&mut by_programme, 1).await;
    assert_eq!(titles(&score), ["SCORE training for factories"]);
    assert!(
        score[0]["release"]["programmes"]
            .as_array()
            .is_some_and(|list| list.iter().any(|p| p["slug"] == "score")),
        "{score:?}"
    );
    nothing_more(&mut by_programme, "only SCORE releases").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_subscriptions_are_refused_with_codes_that_say_what_to_fix() {
    let (_database, state) = live_archive().await;
    let refusal = |query: &str, variables: Value| {
        let mut stream = start(&state, query, variables);
        async move { next(&mut stream).await }
    };
    let events = "subscription($after: String, $filter: ReleaseFilter) { releaseEvents(after: $after, filter: $filter) { cursor } }";
    for (variables, code_wanted, says) in [
        (
            json!({ "after": "not a cursor" }),
            "BAD_USER_INPUT",
            "malformed cursor in `after`",
        ),
        (
            json!({ "after": "ZXw5OTk5OTk5" }),
            "BAD_USER_INPUT",
            "ahead of the archive's newest change",
        ),
        (
            json!({ "filter": { "programmes": ["nope"] } }),
            "BAD_USER_INPUT",
            "unknown programme \"nope\"",
        ),
        (
            json!({ "filter": { "month": 3 } }),
            "BAD_USER_INPUT",
            "month needs a year",
        ),
    ] {
        let response = refusal(events, variables.clone()).await;
        assert_eq!(code(&response), code_wanted, "{variables}: {response}");
        let message = response["errors"][0]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(message.contains(says), "{variables}: {message}");
    }
    let response = refusal(
        "subscription { releaseEvents(kinds: []) { cursor } }",
        json!({}),
    )
    .await;
    assert_eq!(code(&response), "BAD_USER_INPUT");
    let response = refusal(
        "subscription { releaseEvents { release { related(first: 20) { related(first: 20) { related(first: 20) { related(first: 20) { title } } } } } } }",
        json!({}),
    )
    .await;
    assert!(
        ["QUERY_TOO_DEEP", "QUERY_TOO_COMPLEX"].contains(&code(&response).as_str()),
        "{response}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_refuses_subscriptions_and_says_why() {
    let database = TestDatabase::new(Backend::Sqlite).await;
    let db = database.connect().await;
    load_listings(&db, &[seeds_dir()]).await;
    let state = AppState::new(db);
    let mut stream = start(
        &state,
        "subscription { releaseEvents { cursor } }",
        json!({}),
    );
    let response = next(&mut stream).await;
    assert_eq!(code(&response), "SUBSCRIPTIONS_UNAVAILABLE", "{response}");
    let message = response["errors"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.contains("PostgreSQL") && message.contains("poll `releases`"),
        "{message}"
    );

    // Over HTTP: a subscription sent as a plain request is told how to send it.
    let app = spawn_app_with_state(state).await;
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": "subscription { releaseEvents { cursor } }" }))
        .send()
        .await
        .expect("the request is answered");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("a JSON body");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("text/event-stream"), "{body}");
    // Over SSE: the refusal comes as an event of the stream.
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("accept", "text/event-stream")
        .json(&json!({ "query": "subscription { releaseEvents { cursor } }" }))
        .send()
        .await
        .expect("the SSE request is answered");
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("the stream ends");
    assert!(
        text.contains("event: next")
            && text.contains("SUBSCRIPTIONS_UNAVAILABLE")
            && text.contains("event: complete"),
        "{text}"
    );
}

/// The status line a WebSocket upgrade offering `subprotocol` gets, sent as a browser would.
async fn upgrade_status(address: std::net::SocketAddr, subprotocol: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("the server accepts a connection");
    let request = format!(
        "GET /graphql HTTP/1.1\r\nHost: {address}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Protocol: {subprotocol}\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("the request is sent");
    let mut head = vec![0; 512];
    let read = tokio::time::timeout(DELIVERY, stream.read(&mut head))
        .await
        .expect("the server answers the upgrade")
        .expect("the answer can be read");
    String::from_utf8_lossy(&head[..read])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Clients of the retired `subscriptions-transport-ws` protocol (subprotocol `graphql-ws`) are
/// refused at the upgrade, instead of being accepted and then misunderstood.
#[tokio::test]
async fn only_the_graphql_transport_ws_subprotocol_is_upgraded() {
    let (_database, state) = live_archive().await;
    let app = spawn_app_with_state(state).await;
    let legacy = upgrade_status(app.address, "graphql-ws").await;
    assert!(
        legacy.starts_with("HTTP/1.1 400"),
        "graphql-ws got {legacy:?}"
    );
    let current = upgrade_status(app.address, "graphql-transport-ws").await;
    assert!(
        current.starts_with("HTTP/1.1 101"),
        "graphql-transport-ws got {current:?}"
    );
}
