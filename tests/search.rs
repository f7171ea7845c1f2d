//! Full-text search end to end (`ReleaseFilter.search`, `ReleaseOrder.RELEVANCE`,
//! `Release.highlight`), on PostgreSQL and SQLite: the real server over the seed listings plus a
//! small listing of made-up releases written for these tests. Expected matches are worked out
//! here from the listing texts with plain word checks, never taken from the server.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde_json::{Value, json};

use integration_tests::app::{TestApp, load_listings, spawn_app_with};
use integration_tests::json::list;
use integration_tests::{
    Backend, ExpectedRelease, TestDatabase, both_backends, expected_releases, newest_first,
    record_statements, seed_listings,
};

// ------------------------------------------------------------------------------- fixtures ---

/// Made-up releases, in a year the seeds do not cover: a title match and a summary-only match
/// (`quokka`), three releases that rank exactly alike (`wombat`), a summary with markup in it,
/// and "social" and "security" in one release but never side by side.
const EXTRA_LISTING: &str = r#"News and press releases

Releases made up for the search tests.

  1. Security of social dialogue reviewed

    1 June 2019

    Social partners discussed workplace security.

  2. Island wildlife report

    11 May 2019

    The quokka population rose again this year.

  3. Quokka census published

    10 May 2019

    Numbers rose across the island.

  4. Zephyrine herders meet

    1 April 2019

    Zephyrine herders & <script>alert(1)</script> "met" today.

  5. Wombat survey north

    1 March 2019

    Counted across the region.

  6. Wombat survey south

    1 March 2019

    Counted across the region.

  7. Wombat survey east

    1 February 2019

    Counted across the region.

"#;

/// A release as the listings give it.
type Listed = ExpectedRelease;

/// What a search should find in a release, worked out with plain word checks.
trait Words {
    /// The lower-case words of the title and of the summary (runs of letters and digits).
    fn words(&self) -> Vec<String>;

    fn has_word(&self, forms: &[&str]) -> bool {
        self.words()
            .iter()
            .any(|word| forms.contains(&word.as_str()))
    }

    fn has_word_starting(&self, start: &str) -> bool {
        self.words().iter().any(|word| word.starts_with(start))
    }

    /// Whether `phrase` (lower case, single spaces) occurs as consecutive words of the title or
    /// of the summary.
    fn has_phrase(&self, phrase: &str) -> bool;
}

impl Words for Listed {
    fn words(&self) -> Vec<String> {
        let mut all = words(&self.title);
        all.extend(self.summary.as_deref().map(words).unwrap_or_default());
        all
    }

    fn has_phrase(&self, phrase: &str) -> bool {
        let contains =
            |text: &str| format!(" {} ", words(text).join(" ")).contains(&format!(" {phrase} "));
        contains(&self.title) || self.summary.as_deref().is_some_and(contains)
    }
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// A server over the seeds and the extra listing, and what they hold. Fields drop in order:
/// the server stops before its database is removed.
struct Fixture {
    app: TestApp,
    /// Newest first: by date, then by id, both descending.
    releases: Vec<Listed>,
    _dir: tempfile::TempDir,
    _database: TestDatabase,
}

impl Fixture {
    /// Slugs of the releases for which `keep` holds, newest first.
    fn expected(&self, keep: impl Fn(&Listed) -> bool) -> Vec<String> {
        self.releases
            .iter()
            .filter(|r| keep(r))
            .map(|r| r.slug.clone())
            .collect()
    }

    fn by_title(&self, title: &str) -> &Listed {
        self.releases
            .iter()
            .find(|r| r.title.contains(title))
            .expect("a listed release with this title")
    }
}

async fn fixture(backend: Backend) -> Fixture {
    fixture_with(backend, |_| {}).await
}

/// The fixture, with `prepare` run on the server's connection before it serves (e.g. to record
/// statements).
async fn fixture_with(
    backend: Backend,
    prepare: impl FnOnce(&mut sea_orm::DatabaseConnection),
) -> Fixture {
    let database = TestDatabase::new(backend).await;
    let dir = tempfile::tempdir().expect("temporary folder");
    let extra = write_listing(dir.path(), "search-extra.txt", EXTRA_LISTING);
    let mut listings = seed_listings();
    listings.push(extra);
    let mut db = database.connect().await;
    load_listings(&db, &listings).await;
    prepare(&mut db);
    let app = spawn_app_with(db).await;
    let releases = newest_first(expected_releases(&app.db, &listings).await);
    Fixture {
        app,
        releases,
        _dir: dir,
        _database: database,
    }
}

fn write_listing(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("the listing can be written");
    path
}

const SEARCH: &str = r#"
query Search($filter: ReleaseFilter, $order: ReleaseOrder, $first: Int, $after: String, $last: Int, $before: String) {
  releases(filter: $filter, orderBy: $order, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { slug highlight } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"#;

/// A page of `releases` with these variables; panics on errors.
async fn page(app: &TestApp, variables: Value) -> Value {
    app.data(SEARCH, variables).await["releases"].take()
}

fn slugs(connection: &Value) -> Vec<String> {
    list(&connection["edges"])
        .iter()
        .map(|edge| edge["node"]["slug"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn total(connection: &Value) -> usize {
    connection["totalCount"]
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or_else(|| panic!("expected a count, got {connection}"))
}

/// The slugs matching `search` (newest first, one page of 100), checked against `totalCount`.
async fn search(app: &TestApp, search: &str) -> Vec<String> {
    search_with(app, json!({ "search": search }), "NEWEST_FIRST").await
}

async fn search_with(app: &TestApp, filter: Value, order: &str) -> Vec<String> {
    let connection = page(
        app,
        json!({ "filter": filter, "order": order, "first": 100 }),
    )
    .await;
    let found = slugs(&connection);
    assert_eq!(total(&connection), found.len(), "totalCount of {filter}");
    found
}

/// The single error of `body`, which must be a `BAD_USER_INPUT`.
fn bad_user_input(body: &Value) -> String {
    let errors = list(&body["errors"]);
    assert_eq!(errors.len(), 1, "one error: {body}");
    assert_eq!(errors[0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    errors[0]["message"].as_str().unwrap_or_default().to_owned()
}

/// Every slug of the list `filter` and `order` give, read in pages of `size` forward or
/// backward, in list order.
async fn walk(
    app: &TestApp,
    filter: &Value,
    order: &str,
    size: usize,
    forward: bool,
) -> Vec<String> {
    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut cursor = Value::Null;
    loop {
        assert!(pages.len() < 100, "the walk does not end");
        let variables = if forward {
            json!({ "filter": filter, "order": order, "first": size, "after": cursor })
        } else {
            json!({ "filter": filter, "order": order, "last": size, "before": cursor })
        };
        let connection = page(app, variables).await;
        let info = &connection["pageInfo"];
        pages.push(slugs(&connection));
        let more = if forward {
            &info["hasNextPage"]
        } else {
            &info["hasPreviousPage"]
        };
        if more != &Value::Bool(true) {
            break;
        }
        cursor = if forward {
            info["endCursor"].clone()
        } else {
            info["startCursor"].clone()
        };
    }
    if !forward {
        pages.reverse();
    }
    pages.concat()
}

// ---------------------------------------------------------------------------- matching ---

/// "herder" finds "Herders", "workshop" finds "Workshops": also quoted, where the word is not
/// taken as the start of a longer one, so only stemming can match.
async fn words_match_in_any_form(backend: Backend) {
    let fx = &fixture(backend).await;
    let herders = fx.expected(|r| r.has_word(&["herder", "herders"]));
    assert!(herders.len() >= 2, "seeds and extras mention herders");
    assert_eq!(search(&fx.app, "herder").await, herders);
    assert_eq!(search(&fx.app, "\"herder\"").await, herders);
    assert_eq!(search(&fx.app, "Herders").await, herders);

    let workshops = fx.expected(|r| r.has_word(&["workshop", "workshops"]));
    assert!(
        fx.releases
            .iter()
            .any(|r| r.words().contains(&"workshops".to_owned())),
        "the seeds have the plural"
    );
    assert_eq!(search(&fx.app, "\"workshop\"").await, workshops);
    assert_eq!(search(&fx.app, "WORKSHOP").await, workshops);
}

/// A quoted phrase needs its words side by side; unquoted, anywhere.
async fn phrases_keep_their_words_together(backend: Backend) {
    let fx = &fixture(backend).await;
    let apart = fx.by_title("Security of social dialogue").slug.clone();

    let phrase = fx.expected(|r| r.has_phrase("social security"));
    assert!(phrase.len() >= 2, "the seeds have the phrase");
    let found = search(&fx.app, "\"social security\"").await;
    assert_eq!(found, phrase);
    assert!(!found.contains(&apart));

    let found = search(&fx.app, "social security").await;
    let at_least = fx.expected(|r| r.has_word(&["social"]) && r.has_word(&["security"]));
    let at_most = fx.expected(|r| r.has_word_starting("social") && r.has_word_starting("secur"));
    assert!(found.contains(&apart), "{found:?}");
    for slug in &at_least {
        assert!(found.contains(slug), "{slug} has both words");
    }
    for slug in &found {
        assert!(at_most.contains(slug), "{slug} lacks a word");
    }
}

/// `or` between alternatives; a leading `-` excludes.
async fn or_and_exclusion(backend: Backend) {
    let fx = &fixture(backend).await;
    assert_eq!(
        search(&fx.app, "quokka or WOMBAT").await,
        fx.expected(|r| r.has_word(&["quokka", "wombat"]))
    );
    assert_eq!(
        search(&fx.app, "wombat east or quokka island").await,
        fx.expected(|r| (r.has_word(&["wombat"]) && r.has_word(&["east"]))
            || (r.has_word(&["quokka"]) && r.has_word(&["island"])))
    );

    let workshops = fx.expected(|r| r.has_word(&["workshop", "workshops"]));
    let without_china =
        fx.expected(|r| r.has_word(&["workshop", "workshops"]) && !r.has_word(&["china"]));
    assert!(!without_china.is_empty() && without_china.len() < workshops.len());
    assert_eq!(search(&fx.app, "workshop -china").await, without_china);
    assert_eq!(
        search(&fx.app, "workshop -\"social security\" -china").await,
        fx.expected(|r| r.has_word(&["workshop", "workshops"])
            && !r.has_word(&["china"])
            && !r.has_phrase("social security"))
    );
    // An alternative that only excludes matches nothing (on both backends alike).
    assert_eq!(search(&fx.app, "-china").await, Vec::<String>::new());
    assert_eq!(
        search(&fx.app, "quokka or -china").await,
        fx.expected(|r| r.has_word(&["quokka"]))
    );
}

/// The last word also matches the start of longer words, so results follow typing.
async fn the_last_word_matches_as_a_prefix(backend: Backend) {
    let fx = &fixture(backend).await;
    let apprenticeship = fx.expected(|r| r.has_word_starting("apprentice"));
    assert!(!apprenticeship.is_empty());
    assert_eq!(search(&fx.app, "apprentice").await, apprenticeship);
    assert_eq!(search(&fx.app, "Apprentic").await, apprenticeship);
    assert_eq!(
        search(&fx.app, "quality appren").await,
        fx.expected(|r| r.has_word(&["quality"]) && r.has_word_starting("appren"))
    );
    // Quoted, or not last, the word is only itself (in any form).
    assert_eq!(
        search(&fx.app, "\"apprentice\"").await,
        fx.expected(|r| r.has_word(&["apprentice", "apprentices"]))
    );
    assert_eq!(
        search(&fx.app, "wombat").await,
        fx.expected(|r| r.has_word(&["wombat"]))
    );
}

// ------------------------------------------------------------------------------ ranking ---

/// RELEVANCE: a title match before a summary-only one; equal ranks newest first, then by id;
/// pages of 2 meet every match once, forward and backward.
async fn relevance_orders_by_rank_then_date_then_id(backend: Backend) {
    let fx = &fixture(backend).await;
    let relevance = |text: &str| search_with(&fx.app, json!({ "search": text }), "RELEVANCE");

    let in_title = fx.by_title("Quokka census").slug.clone();
    let in_summary = fx.by_title("Island wildlife report").slug.clone();
    assert!(
        fx.by_title("Island wildlife report").published_on
            > fx.by_title("Quokka census").published_on,
        "by date alone, the summary match would come first"
    );
    assert_eq!(relevance("quokka").await, [in_title, in_summary]);

    // The three wombat surveys rank exactly alike: date, then id, both descending.
    let mut wombats: Vec<&Listed> = fx
        .releases
        .iter()
        .filter(|r| r.has_word(&["wombat"]))
        .collect();
    wombats.sort_by_key(|r| std::cmp::Reverse((r.published_on, r.id)));
    let wombats: Vec<String> = wombats.iter().map(|r| r.slug.clone()).collect();
    assert_eq!(wombats.len(), 3);
    assert_eq!(relevance("wombat").await, wombats);

    let filter = json!({ "search": "workshop or wombat or quokka or herders" });
    let all = search_with(&fx.app, filter.clone(), "RELEVANCE").await;
    let expected: BTreeSet<String> = fx
        .expected(|r| {
            r.has_word(&[
                "workshop",
                "workshops",
                "wombat",
                "quokka",
                "herder",
                "herders",
            ]) || r.has_word_starting("herders")
        })
        .into_iter()
        .collect();
    assert_eq!(all.iter().cloned().collect::<BTreeSet<_>>(), expected);
    assert_eq!(all.len(), expected.len(), "no release twice");
    assert!(all.len() > 6, "several pages of two");
    assert_eq!(walk(&fx.app, &filter, "RELEVANCE", 2, true).await, all);
    assert_eq!(walk(&fx.app, &filter, "RELEVANCE", 2, false).await, all);
    // The other orders are unaffected by the search.
    let newest_first: Vec<String> = fx
        .releases
        .iter()
        .filter(|r| expected.contains(&r.slug))
        .map(|r| r.slug.clone())
        .collect();
    assert_eq!(
        walk(&fx.app, &filter, "NEWEST_FIRST", 3, true).await,
        newest_first
    );
    let oldest_first: Vec<String> = newest_first.iter().rev().cloned().collect();
    assert_eq!(
        walk(&fx.app, &filter, "OLDEST_FIRST", 3, false).await,
        oldest_first
    );
}

/// RELEVANCE needs a search, and cursors only work in the order they came from.
async fn relevance_needs_a_search_and_its_own_cursors(backend: Backend) {
    let fx = &fixture(backend).await;
    let body = fx
        .app
        .graphql(SEARCH, json!({ "order": "RELEVANCE", "first": 2 }))
        .await;
    let message = bad_user_input(&body);
    assert!(message.contains("search"), "{message}");
    let body = fx
        .app
        .graphql(
            SEARCH,
            json!({ "order": "RELEVANCE", "filter": { "year": 2021 } }),
        )
        .await;
    bad_user_input(&body);

    let filter = json!({ "search": "wombat" });
    let ranked = page(
        &fx.app,
        json!({ "filter": filter, "order": "RELEVANCE", "first": 1 }),
    )
    .await;
    let dated = page(
        &fx.app,
        json!({ "filter": filter, "order": "NEWEST_FIRST", "first": 1 }),
    )
    .await;
    for (cursor, order) in [
        (&ranked["pageInfo"]["endCursor"], "NEWEST_FIRST"),
        (&dated["pageInfo"]["endCursor"], "RELEVANCE"),
    ] {
        let body = fx
            .app
            .graphql(
                SEARCH,
                json!({ "filter": filter, "order": order, "first": 1, "after": cursor }),
            )
            .await;
        let message = bad_user_input(&body);
        assert!(message.contains("different order"), "{message}");
    }
    let body = fx
        .app
        .graphql(SEARCH, json!({ "filter": { "search": "a ".repeat(300) } }))
        .await;
    bad_user_input(&body);
}

// --------------------------------------------------------------------------- highlights ---

/// The matched words in `<mark>`, everything else HTML-escaped, the title when the summary has
/// no match; null without a search.
async fn highlights_mark_matches_and_escape_the_rest(backend: Backend) {
    let fx = &fixture(backend).await;
    let highlights = async |filter: Value| -> HashMap<String, Value> {
        let connection = page(&fx.app, json!({ "filter": filter, "first": 100 })).await;
        list(&connection["edges"])
            .iter()
            .map(|edge| {
                (
                    edge["node"]["slug"].as_str().unwrap_or_default().to_owned(),
                    edge["node"]["highlight"].clone(),
                )
            })
            .collect()
    };

    let found = highlights(json!({ "search": "herder" })).await;
    let zephyrine = fx.by_title("Zephyrine herders");
    assert_eq!(
        found[&zephyrine.slug],
        "Zephyrine <mark>herders</mark> &amp; &lt;script&gt;alert(1)&lt;/script&gt; &quot;met&quot; today."
    );
    let seed = fx.by_title("Herders’ Social Insurance");
    let summary = seed
        .summary
        .as_deref()
        .expect("the seed release has a summary");
    assert!(
        !summary.contains(['&', '<', '>', '"', '\'']),
        "nothing to escape here"
    );
    let expected = summary
        .replace("Herders", "<mark>Herders</mark>")
        .replace("herders", "<mark>herders</mark>");
    assert!(expected.contains("<mark>"));
    assert_eq!(found[&seed.slug], expected);

    // (Words inside markup are not searched on PostgreSQL, whose parser skips tags.)
    let found = highlights(json!({ "search": "<zephyrine>" })).await;
    assert_eq!(
        found[&zephyrine.slug],
        "<mark>Zephyrine</mark> herders &amp; &lt;script&gt;alert(1)&lt;/script&gt; &quot;met&quot; today."
    );

    // Only the title matches: the title is highlighted.
    let found = highlights(json!({ "search": "quokka" })).await;
    assert_eq!(
        found[&fx.by_title("Quokka census").slug],
        "<mark>Quokka</mark> census published"
    );
    assert_eq!(
        found[&fx.by_title("Island wildlife").slug],
        "The <mark>quokka</mark> population rose again this year."
    );

    // Excluded words are never marked; neither are common words.
    let found = highlights(json!({ "search": "the region -north", "year": 2019 })).await;
    assert_eq!(found.len(), 2);
    for highlight in found.values() {
        assert_eq!(highlight, "Counted across the <mark>region</mark>.");
    }

    let found = highlights(json!({ "year": 2019 })).await;
    assert!(!found.is_empty());
    assert!(
        found.values().all(Value::is_null),
        "no search, no highlight"
    );
}

// ---------------------------------------------------------------------------- combining ---

/// A search combines with programmes, dates and paging.
async fn search_combines_with_filters_and_paging(backend: Backend) {
    let fx = &fixture(backend).await;
    let workshop = |r: &Listed| r.has_word(&["workshop", "workshops"]);

    let expected = fx.expected(|r| workshop(r) && r.programmes.contains("quality-apprenticeship"));
    assert!(!expected.is_empty());
    let filter = json!({ "search": "workshop", "programmes": ["quality-apprenticeship"] });
    assert_eq!(search_with(&fx.app, filter, "NEWEST_FIRST").await, expected);

    let from = NaiveDate::from_ymd_opt(2021, 1, 1).expect("a date");
    let expected = fx.expected(|r| workshop(r) && r.published_on >= from);
    assert!(!expected.is_empty() && expected.len() < fx.expected(workshop).len());
    let filter = json!({ "search": "workshop", "publishedFrom": "2021-01-01" });
    assert_eq!(
        search_with(&fx.app, filter.clone(), "NEWEST_FIRST").await,
        expected
    );
    assert_eq!(
        walk(&fx.app, &filter, "NEWEST_FIRST", 1, true).await,
        expected
    );
    assert_eq!(
        walk(&fx.app, &filter, "NEWEST_FIRST", 1, false).await,
        expected
    );

    let filter = json!({ "search": "workshop", "year": 2017, "month": 3 });
    assert_eq!(
        search_with(&fx.app, filter, "RELEVANCE").await.len(),
        fx.expected(|r| workshop(r) && r.published_on.format("%Y-%m").to_string() == "2017-03")
            .len()
    );

    // Inside a programme's own list, too.
    let data = fx
        .app
        .data(
            r#"{ programme(slug: "quality-apprenticeship") {
                   releases(filter: { search: "workshop" }, orderBy: RELEVANCE) { totalCount nodes { slug } } } }"#,
            json!({}),
        )
        .await;
    let connection = &data["programme"]["releases"];
    let mut found: Vec<String> = list(&connection["nodes"])
        .iter()
        .map(|n| n["slug"].as_str().unwrap_or_default().to_owned())
        .collect();
    found.sort();
    let mut expected =
        fx.expected(|r| workshop(r) && r.programmes.contains("quality-apprenticeship"));
    expected.sort();
    assert_eq!(found, expected);
}

// ---------------------------------------------------------------------- hostile input ---

/// Nothing searchable: an empty list, not an error. SQL and FTS5 syntax: plain text.
async fn odd_input_is_text_never_an_error(backend: Backend) {
    let fx = &fixture(backend).await;
    for text in [
        "",
        "\"",
        "-",
        "!!!",
        "or",
        "OR or",
        "\" - or !!! ()*:^",
        "the of and",
    ] {
        for order in ["NEWEST_FIRST", "RELEVANCE"] {
            let connection = page(
                &fx.app,
                json!({ "filter": { "search": text }, "order": order, "first": 5 }),
            )
            .await;
            assert_eq!(slugs(&connection), Vec::<String>::new(), "{text:?}");
            assert_eq!(total(&connection), 0);
            assert_eq!(connection["pageInfo"]["hasNextPage"], false);
        }
    }
    for text in [
        "'; DROP TABLE release; --",
        "%",
        "_",
        "\\",
        "a%b_c\\d",
        "release' OR '1'='1",
        "herder*",
        "NEAR(herder workshop)",
        "title:herder",
        "herder & !china | (a <-> b)",
        "\"unclosed phrase",
        "x AND NOT y",
    ] {
        for order in ["NEWEST_FIRST", "RELEVANCE"] {
            let body = fx
                .app
                .graphql(
                    SEARCH,
                    json!({ "filter": { "search": text }, "order": order, "first": 5 }),
                )
                .await;
            assert!(body.get("errors").is_none(), "{text:?}: {body}");
        }
    }
    // FTS5 and tsquery operators are words like any other.
    assert_eq!(
        search(&fx.app, "herder*").await,
        search(&fx.app, "herder").await
    );
    assert_eq!(
        search(&fx.app, "title:herder").await,
        fx.expected(|r| r.has_phrase("title herder"))
    );
    let data = fx.app.data("{ releases { totalCount } }", json!({})).await;
    assert_eq!(
        data["releases"]["totalCount"].as_u64(),
        u64::try_from(fx.releases.len()).ok(),
        "the release table is intact"
    );
}

// --------------------------------------------------------------------- statement counts ---

/// A searched page, ranked and highlighted, from the search index: one statement for the
/// page's releases, and with programmes and offices one for each catalogue (the index knows
/// which releases carry which); the count comes from the index too. An unsearchable text: no
/// statement at all.
async fn a_search_page_runs_a_fixed_number_of_statements(backend: Backend) {
    let mut recorded = None;
    let fx = &fixture_with(backend, |db| recorded = Some(record_statements(db))).await;
    let statements = recorded.unwrap_or_default();
    let run = async |query: &str| -> (Value, Vec<String>) {
        statements.lock().expect("statement log").clear();
        let data = fx.app.data(query, json!({})).await;
        let sql = std::mem::take(&mut *statements.lock().expect("statement log"));
        (data, sql)
    };
    const NODES: &str = "nodes { slug highlight programmes { slug } offices { slug } }";
    let (data, sql) = run(&format!(
        r#"{{ releases(first: 100, orderBy: RELEVANCE, filter: {{ search: "workshop or china" }}) {{ {NODES} }} }}"#
    ))
    .await;
    assert!(list(&data["releases"]["nodes"]).len() > 5);
    assert_eq!(
        sql.len(),
        3,
        "the page, the programmes, the offices: {sql:#?}"
    );
    let (_, sql) = run(&format!(
        r#"{{ releases(first: 100, orderBy: RELEVANCE, filter: {{ search: "workshop" }}) {{ totalCount {NODES} }} }}"#
    ))
    .await;
    assert_eq!(sql.len(), 3, "the count is the index's: {sql:#?}");
    let (data, sql) = run(
        r#"{ releases(first: 100, orderBy: RELEVANCE, filter: { search: "workshop" }) { totalCount nodes { slug } } }"#,
    )
    .await;
    assert!(data["releases"]["totalCount"].as_u64() > Some(0));
    assert_eq!(
        sql.len(),
        1,
        "without tags, the page's releases only: {sql:#?}"
    );
    let (_, sql) = run(&format!(
        r#"{{ releases(filter: {{ search: "!!!" }}) {{ totalCount {NODES} }} }}"#
    ))
    .await;
    assert!(
        sql.is_empty(),
        "nothing to search, nothing to run: {sql:#?}"
    );
}

both_backends!(
    words_match_in_any_form,
    phrases_keep_their_words_together,
    or_and_exclusion,
    the_last_word_matches_as_a_prefix,
    relevance_orders_by_rank_then_date_then_id,
    relevance_needs_a_search_and_its_own_cursors,
    highlights_mark_matches_and_escape_the_rest,
    search_combines_with_filters_and_paging,
    odd_input_is_text_never_an_error,
    a_search_page_runs_a_fixed_number_of_statements,
);
