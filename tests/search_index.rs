//! The search index as users meet it: exact counts and facets against brute force over a
//! generated archive, the same answers on both backends, typo corrections and suggestions,
//! the ranking of a few seed queries, freshness across two `api` processes, and an index that
//! is reopened when current and rebuilt when lost or corrupt.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsStr;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait};
use serde_json::{Value, json};
use uuid::Uuid;

use integration_tests::app::{
    TestApp, load_listings, post_query, spawn_app, spawn_app_with, spawn_app_with_state,
};
use integration_tests::binaries::{ApiProcess, api_binary};
use integration_tests::{Backend, TestDatabase, repo_root, seeds_dir};
use model::entity::{office, programme, release, release_office, release_programme};
use search::oracle::CorpusVocabulary;
use search::{Resolved, SearchQuery, stems_of};

const PAGE: &str = r#"query($filter: ReleaseFilter) {
  releases(filter: $filter, orderBy: RELEVANCE, first: 20) {
    totalCount
    searchCorrections { word replacements }
    nodes { slug highlight }
  }
  releaseFacets(filter: $filter) {
    total
    years { year count }
    months { year month count }
    programmes { programme { slug } count }
    offices { office { slug } count }
  }
}"#;

/// The search set of the benchmarks (`bench/queries/search-set.tsv`): class and text.
fn search_set() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo_root().join("bench/queries/search-set.tsv"))
        .expect("the search set");
    text.lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .filter_map(|line| {
            let (class, text) = line.split_once('\t')?;
            Some((class.to_owned(), text.to_owned()))
        })
        .collect()
}

/// A release as brute force sees it.
struct Known {
    title_and_summary: [Vec<String>; 2],
    published_on: NaiveDate,
    programmes: Vec<String>,
    offices: Vec<String>,
}

/// Every release of `db` with its stems and tag slugs, and the archive's vocabulary.
async fn everything(db: &DatabaseConnection) -> (Vec<Known>, CorpusVocabulary) {
    let releases = release::Entity::find().all(db).await.expect("releases");
    let programmes: HashMap<i32, String> = programme::Entity::find()
        .all(db)
        .await
        .expect("programmes")
        .into_iter()
        .map(|p| (p.id, p.slug))
        .collect();
    let offices: HashMap<i32, String> = office::Entity::find()
        .all(db)
        .await
        .expect("offices")
        .into_iter()
        .map(|o| (o.id, o.slug))
        .collect();
    let mut tags: HashMap<Uuid, (Vec<String>, Vec<String>)> = HashMap::new();
    for tag in release_programme::Entity::find()
        .all(db)
        .await
        .expect("tags")
    {
        tags.entry(tag.release_id)
            .or_default()
            .0
            .push(programmes[&tag.programme_id].clone());
    }
    for tag in release_office::Entity::find().all(db).await.expect("tags") {
        tags.entry(tag.release_id)
            .or_default()
            .1
            .push(offices[&tag.office_id].clone());
    }
    let mut vocabulary = CorpusVocabulary::default();
    let known = releases
        .into_iter()
        .map(|release| {
            let summary = release.summary.unwrap_or_default();
            vocabulary.add(&release.title);
            vocabulary.add(&summary);
            let (programmes, offices) = tags.remove(&release.id).unwrap_or_default();
            Known {
                title_and_summary: [stems_of(&release.title), stems_of(&summary)],
                published_on: release.published_on,
                programmes,
                offices,
            }
        })
        .collect();
    (known, vocabulary)
}

/// What brute force says the search page's facets are: each facet applies every criterion
/// but its own.
fn brute_force(known: &[Known], resolved: &Resolved, extra: &Value) -> Value {
    let programme = extra["programmes"][0].as_str();
    let office = extra["offices"][0].as_str();
    let from = extra["publishedFrom"]
        .as_str()
        .and_then(|d| d.parse::<NaiveDate>().ok());
    let to = extra["publishedTo"]
        .as_str()
        .and_then(|d| d.parse::<NaiveDate>().ok());
    let mut total = 0u64;
    let mut years: BTreeMap<i32, u64> = BTreeMap::new();
    let mut months: BTreeMap<(i32, u32), u64> = BTreeMap::new();
    let mut programmes: BTreeMap<String, u64> = BTreeMap::new();
    let mut offices: BTreeMap<String, u64> = BTreeMap::new();
    for release in known {
        let dated = from.is_none_or(|from| release.published_on >= from)
            && to.is_none_or(|to| release.published_on <= to);
        if !dated || !resolved.matches_stems(&release.title_and_summary) {
            continue;
        }
        let in_programme = programme.is_none_or(|p| release.programmes.iter().any(|s| s == p));
        let in_office = office.is_none_or(|o| release.offices.iter().any(|s| s == o));
        if in_programme && in_office {
            total += 1;
            *years.entry(release.published_on.year()).or_default() += 1;
            *months
                .entry((release.published_on.year(), release.published_on.month()))
                .or_default() += 1;
        }
        if in_office {
            for slug in &release.programmes {
                *programmes.entry(slug.clone()).or_default() += 1;
            }
        }
        if in_programme {
            for slug in &release.offices {
                *offices.entry(slug.clone()).or_default() += 1;
            }
        }
    }
    json!({
        "total": total,
        "years": years.into_iter().collect::<Vec<_>>(),
        "months": months.into_iter().collect::<Vec<_>>(),
        "programmes": programmes,
        "offices": offices,
    })
}

/// The facets of an answer in brute force's shape.
fn answered(facets: &Value) -> Value {
    let list = |value: &Value| value.as_array().cloned().unwrap_or_default();
    let mut years: Vec<(i64, i64)> = list(&facets["years"])
        .iter()
        .map(|y| {
            (
                y["year"].as_i64().unwrap_or(0),
                y["count"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    years.sort();
    let mut months: Vec<((i64, i64), i64)> = list(&facets["months"])
        .iter()
        .map(|m| {
            (
                (
                    m["year"].as_i64().unwrap_or(0),
                    m["month"].as_i64().unwrap_or(0),
                ),
                m["count"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    months.sort();
    let named = |key: &str, inner: &str| -> BTreeMap<String, i64> {
        list(&facets[key])
            .iter()
            .map(|entry| {
                (
                    entry[inner]["slug"].as_str().unwrap_or("").to_owned(),
                    entry["count"].as_i64().unwrap_or(0),
                )
            })
            .collect()
    };
    json!({
        "total": facets["total"],
        "years": years,
        "months": months,
        "programmes": named("programmes", "programme"),
        "offices": named("offices", "office"),
    })
}

/// A 10,000-release archive (`ingest generate`, seed 7) on `backend`, served with its index.
async fn generated_archive(backend: Backend, listings: &Path) -> (TestDatabase, TestApp) {
    let database = TestDatabase::new(backend).await;
    let db = database.connect().await;
    load_listings(&db, &[listings.to_path_buf()]).await;
    let app = spawn_app_with(db).await;
    (database, app)
}

fn generate(out: &Path, releases: u64) {
    ingest::generate::generate(&ingest::generate::GenerateOptions {
        releases,
        seed: 7,
        out: out.to_path_buf(),
        releases_per_file: 5_000,
    })
    .expect("the corpus generates");
}

/// Over a generated 10,000-release archive, for every query of the search set alone and with a
/// programme, an office and a date range: `totalCount` and every facet count equal brute force
/// (the matching rule evaluated over every release in memory), and PostgreSQL and SQLite give
/// the very same answers: releases in the same order, counts, facets, highlights, corrections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_and_facets_are_exact_and_the_same_on_both_backends() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    tokio::task::block_in_place(|| generate(folder.path(), 10_000));
    let (_postgres, on_postgres) = generated_archive(Backend::Postgres, folder.path()).await;
    let (_sqlite, on_sqlite) = generated_archive(Backend::Sqlite, folder.path()).await;
    let (known, vocabulary) = everything(&on_postgres.db).await;
    assert_eq!(known.len(), 10_000);
    let combinations = [
        json!({}),
        json!({ "programmes": ["score"] }),
        json!({ "offices": ["beijing"] }),
        json!({ "publishedFrom": "2025-01-01", "publishedTo": "2025-12-31" }),
    ];
    let mut matched_somewhere = 0;
    let mut corrected = 0;
    for (class, text) in search_set() {
        let resolved = Resolved::resolve(
            &SearchQuery::parse(&text).expect("a search of the set parses"),
            &vocabulary,
        );
        for extra in &combinations {
            let mut filter = extra.clone();
            filter["search"] = json!(text);
            let variables = json!({ "filter": filter });
            let postgres = on_postgres.data(PAGE, variables.clone()).await;
            let sqlite = on_sqlite.data(PAGE, variables).await;
            assert_eq!(
                postgres, sqlite,
                "{class} {text:?} with {extra}: the backends differ"
            );
            let expected = brute_force(&known, &resolved, extra);
            assert_eq!(
                answered(&postgres["releaseFacets"]),
                expected,
                "{class} {text:?} with {extra}: facets"
            );
            assert_eq!(
                postgres["releases"]["totalCount"], expected["total"],
                "{class} {text:?} with {extra}: totalCount"
            );
            if expected["total"].as_u64() > Some(0) {
                matched_somewhere += 1;
            }
            if !postgres["releases"]["searchCorrections"]
                .as_array()
                .is_none_or(Vec::is_empty)
            {
                corrected += 1;
            }
        }
    }
    // The comparison means something: most searches find releases, and typos were corrected.
    assert!(
        matched_somewhere > 100,
        "{matched_somewhere} searches matched"
    );
    assert!(corrected > 0, "no search of the set was corrected");
}

async fn search(app: &TestApp, text: &str) -> Value {
    app.data(
        "query($text: String) { releases(filter: { search: $text }, orderBy: RELEVANCE, first: 5) { totalCount searchCorrections { word replacements } nodes { slug highlight } } }",
        json!({ "text": text }),
    )
    .await["releases"]
        .clone()
}

/// A misspelt word finds what the word it stands for finds, and the answer says which word
/// that was; a word of the archive is never corrected, and exclusions and short words stay
/// exact. Suggestions complete the word being typed with exact counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typos_are_corrected_and_suggestions_complete_the_word_being_typed() {
    let database = TestDatabase::postgres().await;
    let app = spawn_app(&database).await;
    let right = search(&app, "apprenticeship").await;
    assert!(right["totalCount"].as_u64() > Some(2), "{right}");
    assert_eq!(right["searchCorrections"], json!([]));
    for typo in ["aprenticeship", "apprenticseship", "apprenticeshpi"] {
        let wrong = search(&app, typo).await;
        assert_eq!(wrong["totalCount"], right["totalCount"], "{typo}: {wrong}");
        assert_eq!(wrong["nodes"], right["nodes"], "{typo}");
        assert_eq!(
            wrong["searchCorrections"][0]["word"], typo,
            "{typo}: {wrong}"
        );
        assert!(
            wrong["searchCorrections"][0]["replacements"]
                .as_array()
                .is_some_and(|words| words.contains(&json!("apprenticeship"))),
            "{typo}: {wrong}"
        );
        assert!(
            wrong["nodes"][0]["highlight"]
                .as_str()
                .is_some_and(|text| text.to_lowercase().contains("<mark>apprenticeship")),
            "the correction is highlighted: {wrong}"
        );
    }
    // "Mongloia": one transposition from "Mongolia".
    let mongolia = search(&app, "Mongolia").await;
    assert_eq!(
        search(&app, "Mongloia").await["totalCount"],
        mongolia["totalCount"]
    );
    // Two edits need nine letters; a short typo finds nothing rather than something else.
    assert_eq!(
        search(&app, "aprentceship").await["totalCount"],
        right["totalCount"]
    );
    assert_eq!(search(&app, "wrok").await["totalCount"], 0);
    // Exclusions and phrases are exact: a misspelt exclusion excludes nothing.
    assert_eq!(
        search(&app, "apprenticeship -mongloia").await["totalCount"],
        right["totalCount"]
    );

    let suggestions = app
        .data(
            r#"{ searchSuggestions(text: "Appren", first: 5) { words { word text count } programmes { slug } } }"#,
            json!({}),
        )
        .await["searchSuggestions"]
        .clone();
    let words = suggestions["words"].as_array().cloned().unwrap_or_default();
    assert!(!words.is_empty(), "{suggestions}");
    for word in &words {
        let text = word["text"].as_str().unwrap_or_default();
        assert!(
            word["word"]
                .as_str()
                .is_some_and(|w| w.starts_with("appren")),
            "{word}"
        );
        assert_eq!(
            search(&app, text).await["totalCount"],
            word["count"],
            "a suggestion's count is what its search finds: {word}"
        );
    }
    let score = app
        .data(
            r#"{ searchSuggestions(text: "SCORE") { programmes { slug } offices { slug } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        score["searchSuggestions"]["programmes"],
        json!([{ "slug": "score" }]),
        "{score}"
    );
    let empty = app
        .data(
            r#"{ searchSuggestions(text: "  ") { words { word } programmes { slug } offices { slug } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        empty["searchSuggestions"],
        json!({ "words": [], "programmes": [], "offices": [] })
    );
    for (arguments, fragment) in [
        (r#"text: "wor", first: 0"#, "ask for 1 to 20"),
        (r#"text: "wor", filter: { search: "x" }"#, "goes in `text`"),
    ] {
        let body = app
            .graphql(
                &format!("{{ searchSuggestions({arguments}) {{ words {{ word }} }} }}"),
                json!({}),
            )
            .await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{body}"
        );
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .is_some_and(|message| message.contains(fragment)),
            "{body}"
        );
    }
}

/// The top results of a few searches over the seed listings, pinned: BM25 with the title
/// weighted above the summary, ties by date then id. The same on both backends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ranking_of_seed_searches_is_pinned() {
    let expected = std::fs::read_to_string(repo_root().join("tests/expected/search-ranking.json"))
        .expect("tests/expected/search-ranking.json");
    let expected: Value = serde_json::from_str(&expected).expect("the pinned ranking is JSON");
    for backend in [Backend::Postgres, Backend::Sqlite] {
        let database = TestDatabase::new(backend).await;
        let app = spawn_app(&database).await;
        let mut found = serde_json::Map::new();
        for text in expected
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            let slugs: Vec<Value> = search(&app, &text).await["nodes"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .take(3)
                .map(|node| node["slug"].clone())
                .collect();
            found.insert(text, Value::Array(slugs));
        }
        assert_eq!(Value::Object(found), expected, "{backend:?}");
    }
}

/// An `api` process from the binary on `database_url` with its index in `index`; killed when
/// dropped.
/// The `api` binary on `database_url`, its search index in `index`.
fn start_api(database_url: &str, index: &Path) -> ApiProcess {
    ApiProcess::start(
        &api_binary(),
        &[
            OsStr::new("--database-url"),
            OsStr::new(database_url),
            OsStr::new("--search-index-dir"),
            index.as_os_str(),
        ],
    )
}

const FRESH: &str = r#"{ releases(filter: { search: "quetzalcoatl" }) { totalCount } releaseFacets(filter: { search: "quetzalcoatl" }) { total } }"#;

/// Two `api` processes serve one PostgreSQL archive, each with its own index and response
/// cache. A release ingested between requests is found by both, with its count and facets,
/// within a second of the ingest's commit, and no cached answer hides it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_release_is_found_by_every_process_within_a_second() {
    let database = TestDatabase::postgres().await;
    let db = database.connect().await;
    load_listings(&db, &[seeds_dir()]).await;
    let indexes = tempfile::tempdir().expect("a temporary folder");
    let url = database.url.clone();
    let processes: Vec<ApiProcess> = tokio::task::block_in_place(|| {
        ["one", "two"]
            .iter()
            .map(|name| start_api(&url, &indexes.path().join(name)))
            .collect()
    });
    let client = reqwest::Client::new();
    for process in &processes {
        // Twice: the second is a cache hit, which the ingest must void.
        for _ in 0..2 {
            let data = post_query(&client, &process.graphql, FRESH)
                .await
                .expect("an answer");
            assert_eq!(data["releases"]["totalCount"], 0);
        }
    }
    let listing = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(
        listing.path().join("fresh.txt"),
        "News and press releases\n\n  1. Quetzalcoatl visits the ILO office in Beijing\n\n    12 March 2026\n\n    A delegation met the SCORE programme's team.\n",
    )
    .expect("the listing is written");
    load_listings(&db, &[listing.path().to_path_buf()]).await;
    let committed = Instant::now();
    for process in &processes {
        loop {
            let data = post_query(&client, &process.graphql, FRESH)
                .await
                .expect("an answer");
            if data["releases"]["totalCount"] == 1 {
                assert_eq!(data["releaseFacets"]["total"], 1);
                break;
            }
            assert!(
                committed.elapsed() < Duration::from_secs(1),
                "{} still does not find the new release: {data}",
                process.graphql
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // And it stays found (no stale answer comes back from a cache).
    for process in &processes {
        for _ in 0..5 {
            let data = post_query(&client, &process.graphql, FRESH)
                .await
                .expect("an answer");
            assert_eq!(data["releases"]["totalCount"], 1);
        }
    }
}

/// A searched page names its facets and tags from the catalogue, which each process keeps
/// across requests: a programme renamed in the database is shown under its new name, in the
/// facets and on the releases, within a second, by a process whose catalogue and response
/// cache were warm, and the old name never comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renamed_programme_is_named_anew_in_searched_answers_within_a_second() {
    const NAMED: &str = r#"{ releases(filter: { search: "apprenticeship", programmes: ["quality-apprenticeship"] }, first: 1) { nodes { programmes { slug name } } } releaseFacets(filter: { search: "apprenticeship" }) { programmes { programme { slug name } count } } }"#;
    let names = |data: &Value| -> Vec<String> {
        let facet = data["releaseFacets"]["programmes"]
            .as_array()
            .expect("programme facets")
            .iter()
            .filter(|bucket| bucket["programme"]["slug"] == "quality-apprenticeship")
            .map(|bucket| {
                bucket["programme"]["name"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            });
        let tags = data["releases"]["nodes"][0]["programmes"]
            .as_array()
            .expect("the release's programmes")
            .iter()
            .filter(|tag| tag["slug"] == "quality-apprenticeship")
            .map(|tag| tag["name"].as_str().unwrap_or("").to_owned());
        facet.chain(tags).collect()
    };
    let database = TestDatabase::postgres().await;
    let db = database.connect().await;
    load_listings(&db, &[seeds_dir()]).await;
    let index = tempfile::tempdir().expect("a temporary folder");
    let url = database.url.clone();
    let process = tokio::task::block_in_place(|| start_api(&url, index.path()));
    let client = reqwest::Client::new();
    for _ in 0..3 {
        let data = post_query(&client, &process.graphql, NAMED)
            .await
            .expect("an answer");
        let found = names(&data);
        assert_eq!(found.len(), 2, "{data}");
        assert!(
            found.iter().all(|name| name != "Apprenticeships renamed"),
            "{data}"
        );
    }
    db.execute_unprepared(
        "UPDATE programme SET name = 'Apprenticeships renamed' WHERE slug = 'quality-apprenticeship'",
    )
    .await
    .expect("the programme is renamed");
    let renamed = Instant::now();
    loop {
        let data = post_query(&client, &process.graphql, NAMED)
            .await
            .expect("an answer");
        if names(&data) == ["Apprenticeships renamed", "Apprenticeships renamed"] {
            break;
        }
        assert!(
            renamed.elapsed() < Duration::from_secs(1),
            "the old name is still shown: {data}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for _ in 0..5 {
        let data = post_query(&client, &process.graphql, NAMED)
            .await
            .expect("an answer");
        assert_eq!(
            names(&data),
            ["Apprenticeships renamed", "Apprenticeships renamed"],
            "{data}"
        );
    }
}

/// Started again on an unchanged archive, the index is reopened, not rebuilt; deleted or
/// corrupted, it is rebuilt before anything is served, and answers as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_is_reopened_when_current_and_rebuilt_when_lost_or_corrupt() {
    let database = TestDatabase::postgres().await;
    let db = database.connect().await;
    load_listings(&db, &[seeds_dir()]).await;
    let folder = tempfile::tempdir().expect("a temporary folder");
    let directory = folder.path().join("index");
    let location = || {
        Some(api::ops::config::SearchLocation {
            path: directory.clone(),
            slots: false,
        })
    };
    let start = async || {
        api::ops::search_sync::start(location(), false, api::Store::new(db.clone()), None).await
    };
    let answer = async |search: &api::ops::search_sync::SearchStart| {
        let state = api::AppState::new(db.clone())
            .with_search_engine(search.engine.clone(), search.freshness.clone());
        let app = spawn_app_with_state(state).await;
        search_answers(&app).await
    };

    let first = start().await.expect("the index starts");
    assert_eq!(first.built.as_deref(), Some("there is no index yet"));
    let expected = answer(&first).await;
    assert!(expected[0]["totalCount"].as_u64() > Some(0), "{expected:?}");
    drop(first);
    // Reopened: the lock is free once the first index is gone.
    let second = until_started(&start).await;
    assert_eq!(second.built, None, "an unchanged index is reopened");
    assert_eq!(answer(&second).await, expected);
    drop(second);

    // Corrupt the largest file: the checksum fails, the index is rebuilt.
    let largest = std::fs::read_dir(&directory)
        .expect("the index directory")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.is_file())
        .max_by_key(|path| std::fs::metadata(path).map(|m| m.len()).unwrap_or(0))
        .expect("a file");
    let mut bytes = std::fs::read(&largest).expect("the file");
    let middle = bytes.len() / 2;
    for byte in &mut bytes[middle..middle + 8] {
        *byte = !*byte;
    }
    std::fs::write(&largest, bytes).expect("the corrupted file");
    let third = until_started(&start).await;
    assert!(
        third
            .built
            .as_deref()
            .is_some_and(|why| why.contains("corrupt")),
        "{:?}",
        third.built
    );
    assert_eq!(answer(&third).await, expected);
    drop(third);

    std::fs::remove_dir_all(&directory).expect("the index is deleted");
    let fourth = until_started(&start).await;
    assert_eq!(fourth.built.as_deref(), Some("there is no index yet"));
    assert_eq!(answer(&fourth).await, expected);
}

/// Starts the index again, once the previous one's follower has let go of its directory (it
/// notices within its poll interval that its engine is gone).
async fn until_started<F>(start: &F) -> api::ops::search_sync::SearchStart
where
    F: AsyncFn() -> Result<api::ops::search_sync::SearchStart, api::ops::search_sync::SyncError>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match start().await {
            Ok(started) => return started,
            Err(error) if Instant::now() < deadline && error.to_string().contains("in use") => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(error) => panic!("the index could not be started again: {error}"),
        }
    }
}

async fn search_answers(app: &TestApp) -> Vec<Value> {
    let mut answers = Vec::new();
    for text in [
        "workshop",
        "social security",
        "aprenticeship",
        "\"decent work\" -china",
    ] {
        answers.push(search(app, text).await);
    }
    answers
}
