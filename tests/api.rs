//! The GraphQL API end to end: the real server on a random port over a fresh PostgreSQL database
//! and a fresh SQLite file, loaded with the seed listings, queried over HTTP like a frontend.
//! Expected values are worked out from the listings with `ingest::prepare` (and release slugs
//! read with SQL), never taken from the server.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use base64::Engine;
use chrono::{Datelike, Days, NaiveDate};
use sea_orm::{DatabaseConnection, EntityTrait, ModelTrait};
use serde_json::{Value, json};

use ingest::catalogue::Catalogue;
use integration_tests::app::{TestApp, load_listings, spawn_app, spawn_app_with};
use integration_tests::json::{count, list, text};
use integration_tests::{
    Backend, ExpectedRelease, TestDatabase, both_backends, catalogue_path, date, expected_releases,
    newest_first, record_statements, repo_root, seed_listings,
};
use model::entity::release;

// ------------------------------------------------------------------------------- fixtures ---

/// What the archive should contain.
#[derive(Debug)]
struct Archive {
    catalogue: Catalogue,
    /// Newest first: by date, then by id, both descending.
    releases: Vec<ExpectedRelease>,
}

impl Archive {
    /// Parses and tags `listings` as ingest does. Slugs are only allocated when loading, so
    /// they are read from the `release` table of `db`.
    async fn from_listings(db: &DatabaseConnection, listings: &[PathBuf]) -> Archive {
        let catalogue = Catalogue::load(&catalogue_path()).expect("the seed catalogue loads");
        let releases = newest_first(expected_releases(db, listings).await);
        Archive {
            catalogue,
            releases,
        }
    }

    fn slugs(&self, keep: impl Fn(&ExpectedRelease) -> bool) -> Vec<String> {
        self.releases
            .iter()
            .filter(|r| keep(r))
            .map(|r| r.slug.clone())
            .collect()
    }

    fn by_slug(&self, slug: &str) -> &ExpectedRelease {
        self.releases
            .iter()
            .find(|r| r.slug == slug)
            .expect("the slug is one of the expected releases")
    }
}

/// A server over a fresh database, and what it should serve. Fields drop in order: the server
/// stops before its database is removed.
struct Fixture {
    app: TestApp,
    archive: Archive,
    _database: TestDatabase,
}

/// The server over the seed listings.
async fn seeded(backend: Backend) -> Fixture {
    let database = TestDatabase::new(backend).await;
    let app = spawn_app(&database).await;
    let archive = Archive::from_listings(&app.db, &seed_listings()).await;
    Fixture {
        app,
        archive,
        _database: database,
    }
}

/// A listing of `count` made-up releases, three per day from 2019-01-01 (a year the seeds do
/// not cover), so that pages are long and same-day ordering matters. One in three mentions
/// SCORE (a programme), one in three the ILO Director-General (the Geneva office).
fn write_synthetic_listing(dir: &Path, name: &str, first_day: NaiveDate, count: u64) -> PathBuf {
    let mut text =
        String::from("News and press releases\n\nReleases made up for the API tests.\n\n");
    for i in 0..count {
        let date = first_day + Days::new(i / 3);
        let topic = match i % 3 {
            0 => "SCORE training for small enterprises",
            1 => "remarks by the ILO Director-General",
            _ => "a workshop on labour statistics",
        };
        text.push_str(&format!(
            "  {n}. Synthetic release {n}: {topic}\n\n    {date}\n\n    Summary of synthetic release {n}.\n\n",
            n = i + 1,
            date = date.format("%-d %B %Y"),
        ));
    }
    let path = dir.join(name);
    std::fs::write(&path, text).expect("the synthetic listing can be written");
    path
}

/// The seeds plus `count` synthetic releases.
async fn seeded_with_synthetic(backend: Backend, count: u64) -> (Fixture, tempfile::TempDir) {
    let database = TestDatabase::new(backend).await;
    let dir = tempfile::tempdir().expect("temporary folder");
    let synthetic = write_synthetic_listing(dir.path(), "synthetic.txt", date(2019, 1, 1), count);
    let mut listings = seed_listings();
    listings.push(synthetic);
    let db = database.connect().await;
    load_listings(&db, &listings).await;
    let app = spawn_app_with(db).await;
    let archive = Archive::from_listings(&app.db, &listings).await;
    let fixture = Fixture {
        app,
        archive,
        _database: database,
    };
    (fixture, dir)
}

fn iso(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

fn slugs_of(nodes: &Value) -> Vec<String> {
    list(nodes).iter().map(|node| text(&node["slug"])).collect()
}

/// The single error of `body`, which must have failed with `BAD_USER_INPUT`.
fn bad_user_input(body: &Value) -> String {
    let errors = list(&body["errors"]);
    assert!(!errors.is_empty(), "expected an error, got {body}");
    for error in errors {
        assert_eq!(
            error["extensions"]["code"], "BAD_USER_INPUT",
            "error without the BAD_USER_INPUT code: {body}"
        );
    }
    text(&errors[0]["message"])
}

const RELEASES_PAGE: &str = r#"
query Page($first: Int, $after: String, $last: Int, $before: String, $order: ReleaseOrder, $filter: ReleaseFilter) {
  releases(first: $first, after: $after, last: $last, before: $before, orderBy: $order, filter: $filter) {
    edges { cursor node { slug } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"#;

/// Slugs of every release matching `filter` (null: all), read in pages of `size` forward
/// (`first`/`after`) or backward (`last`/`before`), checking each page's `pageInfo` on the
/// way. `between_pages` runs after the first page. Returns the slugs in list order and the
/// number of pages.
async fn walk(
    app: &TestApp,
    order: &str,
    filter: &Value,
    size: usize,
    forward: bool,
    between_pages: impl AsyncFnOnce(),
) -> (Vec<String>, usize) {
    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut cursor = Value::Null;
    let mut between_pages = Some(between_pages);
    loop {
        assert!(pages.len() < 1_000, "the walk does not end");
        let variables = if forward {
            json!({ "first": size, "after": cursor, "order": order, "filter": filter })
        } else {
            json!({ "last": size, "before": cursor, "order": order, "filter": filter })
        };
        let data = app.data(RELEASES_PAGE, variables).await;
        let connection = &data["releases"];
        let edges = list(&connection["edges"]);
        let info = &connection["pageInfo"];
        assert!(edges.len() <= size, "page longer than asked: {connection}");
        let cursors: Vec<&Value> = edges.iter().map(|edge| &edge["cursor"]).collect();
        assert_eq!(
            info["startCursor"],
            cursors.first().copied().cloned().unwrap_or(Value::Null)
        );
        assert_eq!(
            info["endCursor"],
            cursors.last().copied().cloned().unwrap_or(Value::Null)
        );
        let (more, came_from_elsewhere) = if forward {
            (&info["hasNextPage"], &info["hasPreviousPage"])
        } else {
            (&info["hasPreviousPage"], &info["hasNextPage"])
        };
        assert_eq!(
            came_from_elsewhere.as_bool(),
            Some(!pages.is_empty()),
            "the side the walk came from: {info}"
        );
        pages.push(
            edges
                .iter()
                .map(|edge| text(&edge["node"]["slug"]))
                .collect(),
        );
        if more == &Value::Bool(false) {
            break;
        }
        assert_eq!(edges.len(), size, "a page before the last one is full");
        cursor = if forward {
            info["endCursor"].clone()
        } else {
            info["startCursor"].clone()
        };
        if let Some(between_pages) = between_pages.take() {
            between_pages().await;
        }
    }
    let page_count = pages.len();
    if !forward {
        pages.reverse();
    }
    (pages.concat(), page_count)
}

// ------------------------------------------------------------------------ pagination ---

/// Pages of 7, forward and backward, in both orders, meet every release exactly once and in
/// order; a release published during a forward walk does not disturb it.
async fn walks_in_pages_of_seven_meet_every_release_once(backend: Backend) {
    let Fixture { app, archive, .. } = &seeded(backend).await;
    let newest_first = archive.slugs(|_| true);
    let oldest_first: Vec<String> = newest_first.iter().rev().cloned().collect();
    let pages = newest_first.len().div_ceil(7);
    assert!(newest_first.len() > 7 * 2, "the seeds fill several pages");

    let (forward, forward_pages) =
        walk(app, "OLDEST_FIRST", &Value::Null, 7, true, async || {}).await;
    assert_eq!(forward, oldest_first);
    assert_eq!(forward_pages, pages);
    let (backward, backward_pages) =
        walk(app, "OLDEST_FIRST", &Value::Null, 7, false, async || {}).await;
    assert_eq!(backward, oldest_first);
    assert_eq!(backward_pages, pages);
    let (backward, _) = walk(app, "NEWEST_FIRST", &Value::Null, 7, false, async || {}).await;
    assert_eq!(backward, newest_first);
    let unique: BTreeSet<&String> = backward.iter().collect();
    assert_eq!(unique.len(), newest_first.len(), "no release twice");

    // Keyset cursors: a release newer than everything, published after the first page was
    // read, belongs before the cursor and must neither shift nor repeat what follows.
    let dir = tempfile::tempdir().expect("temporary folder");
    let late = write_synthetic_listing(dir.path(), "late.txt", date(2030, 1, 1), 1);
    let (forward, _) = walk(app, "NEWEST_FIRST", &Value::Null, 7, true, async || {
        load_listings(&app.db, std::slice::from_ref(&late)).await;
    })
    .await;
    assert_eq!(forward, newest_first);
}

/// A programme's releases, alone or within a year, and an office's: pages of 3 in both
/// directions and both orders meet each of them once, in list order.
async fn walks_through_one_programme_or_office(backend: Backend) {
    let (fixture, _dir) = seeded_with_synthetic(backend, 90).await;
    let Fixture { app, archive, .. } = &fixture;
    let score = archive.slugs(|r| r.programmes.contains("score"));
    let year = archive
        .releases
        .iter()
        .find(|r| r.programmes.contains("score"))
        .map(|r| r.published_on.year())
        .expect("a SCORE release");
    let score_in_year =
        archive.slugs(|r| r.programmes.contains("score") && r.published_on.year() == year);
    let beijing = archive.slugs(|r| r.offices.contains("beijing"));
    assert!(score.len() > 3 * 3, "several pages of SCORE releases");
    for (filter, newest_first) in [
        (json!({ "programmes": ["score"] }), &score),
        (
            json!({ "programmes": ["score"], "year": year }),
            &score_in_year,
        ),
        (json!({ "offices": ["beijing"] }), &beijing),
    ] {
        let oldest_first: Vec<String> = newest_first.iter().rev().cloned().collect();
        for forward in [true, false] {
            let (walked, _) = walk(app, "NEWEST_FIRST", &filter, 3, forward, async || {}).await;
            assert_eq!(&walked, newest_first, "{filter}, forward: {forward}");
            let (walked, _) = walk(app, "OLDEST_FIRST", &filter, 3, forward, async || {}).await;
            assert_eq!(walked, oldest_first, "{filter}, forward: {forward}");
        }
    }
}

/// Newest first by default; same-day releases in a fixed order (by id); OLDEST_FIRST is the
/// exact reverse. Checked over more releases than a page holds, with many same-day releases.
async fn releases_are_ordered_by_date_then_id(backend: Backend) {
    let (fixture, _dir) = seeded_with_synthetic(backend, 150).await;
    let Fixture { app, archive, .. } = &fixture;
    let newest_first = archive.slugs(|_| true);
    let same_day = archive
        .releases
        .windows(2)
        .filter(|pair| pair[0].published_on == pair[1].published_on)
        .count();
    assert!(same_day >= 50, "the data has many same-day releases");

    let (walked, _) = walk(app, "NEWEST_FIRST", &Value::Null, 100, true, async || {}).await;
    assert_eq!(walked, newest_first);
    let (walked, _) = walk(app, "OLDEST_FIRST", &Value::Null, 100, true, async || {}).await;
    assert_eq!(
        walked,
        newest_first.iter().rev().cloned().collect::<Vec<_>>()
    );

    let data = app
        .data("{ releases { nodes { slug publishedOn } } }", json!({}))
        .await;
    assert_eq!(slugs_of(&data["releases"]["nodes"]), newest_first[..20]);
    let first = &data["releases"]["nodes"][0];
    assert_eq!(
        text(&first["publishedOn"]),
        iso(archive.releases[0].published_on)
    );
}

/// Page sizes at the limits, cursors at both ends, and `after` combined with `before`.
async fn page_sizes_and_cursor_windows(backend: Backend) {
    let Fixture { app, archive, .. } = &seeded(backend).await;
    let all = archive.slugs(|_| true);
    let page = |variables: Value| async move {
        app.data(RELEASES_PAGE, variables).await["releases"].take()
    };

    let empty = page(json!({ "first": 0 })).await;
    assert_eq!(list(&empty["edges"]).len(), 0);
    assert_eq!(empty["pageInfo"]["hasNextPage"], true);
    assert_eq!(empty["pageInfo"]["startCursor"], Value::Null);

    let everything = page(json!({ "first": 100 })).await;
    assert_eq!(list(&everything["edges"]).len(), all.len());
    assert_eq!(everything["pageInfo"]["hasNextPage"], false);
    let cursors: Vec<Value> = list(&everything["edges"])
        .iter()
        .map(|edge| edge["cursor"].clone())
        .collect();

    let last_three = page(json!({ "last": 3 })).await;
    let slugs: Vec<String> = list(&last_three["edges"])
        .iter()
        .map(|edge| text(&edge["node"]["slug"]))
        .collect();
    assert_eq!(slugs, all[all.len() - 3..]);
    assert_eq!(last_three["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(last_three["pageInfo"]["hasNextPage"], false);

    let window = page(json!({ "after": cursors[2], "before": cursors[9] })).await;
    let slugs: Vec<String> = list(&window["edges"])
        .iter()
        .map(|edge| text(&edge["node"]["slug"]))
        .collect();
    assert_eq!(slugs, all[3..9]);
    let window_end = page(json!({ "after": cursors[2], "before": cursors[9], "last": 2 })).await;
    let slugs: Vec<String> = list(&window_end["edges"])
        .iter()
        .map(|edge| text(&edge["node"]["slug"]))
        .collect();
    assert_eq!(slugs, all[7..9]);

    let past_the_end = page(json!({ "after": cursors[all.len() - 1] })).await;
    assert_eq!(list(&past_the_end["edges"]).len(), 0);
    assert_eq!(past_the_end["pageInfo"]["hasNextPage"], false);
}

// -------------------------------------------------------------------- counts and filters ---

/// Release counts and date ranges per programme, per office and per year (and month) agree
/// with the listings, through every field that reports them.
async fn counts_per_programme_office_and_year(backend: Backend) {
    let Fixture { app, archive, .. } = &seeded(backend).await;

    let data = app
        .data(
            "{ programmes { slug releaseCount } offices { slug releaseCount } }",
            json!({}),
        )
        .await;
    let counted = |items: &Value| -> BTreeMap<String, usize> {
        list(items)
            .iter()
            .map(|item| (text(&item["slug"]), count(&item["releaseCount"])))
            .collect()
    };
    let expected_programmes: BTreeMap<String, usize> = archive
        .catalogue
        .programmes
        .iter()
        .map(|p| {
            let n = archive
                .releases
                .iter()
                .filter(|r| r.programmes.contains(&p.slug))
                .count();
            (p.slug.clone(), n)
        })
        .collect();
    let expected_offices: BTreeMap<String, usize> = archive
        .catalogue
        .offices
        .iter()
        .map(|o| {
            let n = archive
                .releases
                .iter()
                .filter(|r| r.offices.contains(&o.slug))
                .count();
            (o.slug.clone(), n)
        })
        .collect();
    assert_eq!(counted(&data["programmes"]), expected_programmes);
    assert_eq!(counted(&data["offices"]), expected_offices);
    assert!(
        expected_programmes.values().any(|&n| n > 1),
        "some programme has several releases"
    );

    for (slug, &expected) in &expected_programmes {
        let data = app
            .data(
                r#"query($slug: String!) {
                  programme(slug: $slug) {
                    releaseCount firstPublishedOn lastPublishedOn
                    releases { totalCount }
                  }
                  releases(filter: { programmes: [$slug] }) { totalCount }
                }"#,
                json!({ "slug": slug }),
            )
            .await;
        let programme = &data["programme"];
        assert_eq!(count(&programme["releaseCount"]), expected, "{slug}");
        assert_eq!(
            count(&programme["releases"]["totalCount"]),
            expected,
            "{slug}"
        );
        assert_eq!(count(&data["releases"]["totalCount"]), expected, "{slug}");
        let dates: Vec<NaiveDate> = archive
            .releases
            .iter()
            .filter(|r| r.programmes.contains(slug))
            .map(|r| r.published_on)
            .collect();
        let as_value = |date: Option<&NaiveDate>| date.map_or(Value::Null, |d| json!(iso(*d)));
        assert_eq!(
            programme["firstPublishedOn"],
            as_value(dates.iter().min()),
            "{slug}"
        );
        assert_eq!(
            programme["lastPublishedOn"],
            as_value(dates.iter().max()),
            "{slug}"
        );
    }

    for (slug, &expected) in &expected_offices {
        let data = app
            .data(
                r#"query($slug: String!) {
                  office(slug: $slug) { releaseCount releases { totalCount } }
                  releases(filter: { offices: [$slug] }) { totalCount }
                }"#,
                json!({ "slug": slug }),
            )
            .await;
        assert_eq!(count(&data["office"]["releaseCount"]), expected, "{slug}");
        assert_eq!(
            count(&data["office"]["releases"]["totalCount"]),
            expected,
            "{slug}"
        );
        assert_eq!(count(&data["releases"]["totalCount"]), expected, "{slug}");
    }

    let mut per_year: BTreeMap<i32, usize> = BTreeMap::new();
    let mut per_month: BTreeMap<(i32, u32), usize> = BTreeMap::new();
    for release in &archive.releases {
        let day = release.published_on;
        *per_year.entry(day.year()).or_default() += 1;
        *per_month.entry((day.year(), day.month())).or_default() += 1;
    }
    assert!(per_year.len() >= 2, "the seeds span several years");
    for (year, expected) in per_year {
        let data = app
            .data(
                "query($year: Int) { releases(filter: { year: $year }) { totalCount } }",
                json!({ "year": year }),
            )
            .await;
        assert_eq!(count(&data["releases"]["totalCount"]), expected, "{year}");
    }
    for ((year, month), expected) in per_month {
        let data = app
            .data(
                "query($year: Int, $month: Int) { releases(filter: { year: $year, month: $month }) { totalCount } }",
                json!({ "year": year, "month": month }),
            )
            .await;
        assert_eq!(
            count(&data["releases"]["totalCount"]),
            expected,
            "{year}-{month}"
        );
    }
    let data = app.data("{ releases { totalCount } }", json!({})).await;
    assert_eq!(
        count(&data["releases"]["totalCount"]),
        archive.releases.len()
    );
}

/// Filter criteria combine with AND; the slugs within one criterion with OR; date bounds are
/// inclusive; a programme's or office's own `releases` stay within it.
async fn filters_combine(backend: Backend) {
    let Fixture { app, archive, .. } = &seeded(backend).await;
    let matching = |filter: Value| async move {
        let data = app
            .data(
                "query($filter: ReleaseFilter) { releases(filter: $filter, first: 100) { nodes { slug } pageInfo { hasNextPage } } }",
                json!({ "filter": filter }),
            )
            .await;
        assert_eq!(data["releases"]["pageInfo"]["hasNextPage"], false);
        slugs_of(&data["releases"]["nodes"])
    };

    // The two programmes with the most releases, and the office most releases concern.
    let mut programmes: Vec<(usize, String)> = archive
        .catalogue
        .programmes
        .iter()
        .map(|p| {
            let n = archive
                .releases
                .iter()
                .filter(|r| r.programmes.contains(&p.slug))
                .count();
            (n, p.slug.clone())
        })
        .collect();
    programmes.sort();
    let (p1, p2) = (
        programmes[programmes.len() - 1].1.clone(),
        programmes[programmes.len() - 2].1.clone(),
    );
    let busiest_office = "beijing".to_owned();

    let either = matching(json!({ "programmes": [p1, p2] })).await;
    assert_eq!(
        either,
        archive.slugs(|r| r.programmes.contains(&p1) || r.programmes.contains(&p2))
    );
    assert!(either.len() > archive.slugs(|r| r.programmes.contains(&p1)).len());

    let both_criteria =
        matching(json!({ "programmes": [p1], "offices": ["geneva", busiest_office] })).await;
    assert_eq!(
        both_criteria,
        archive.slugs(|r| r.programmes.contains(&p1)
            && (r.offices.contains("geneva") || r.offices.contains(&busiest_office)))
    );

    assert_eq!(
        matching(json!({ "programmes": [] })).await,
        archive.slugs(|_| true)
    );

    // Inclusive bounds: the dates of the 5th and 15th newest releases are themselves included.
    let later = archive.releases[4].published_on;
    let earlier = archive.releases[14].published_on;
    assert_eq!(
        matching(json!({ "publishedFrom": iso(earlier), "publishedTo": iso(later) })).await,
        archive.slugs(|r| earlier <= r.published_on && r.published_on <= later)
    );
    assert_eq!(
        matching(json!({ "publishedFrom": iso(later), "publishedTo": iso(later) })).await,
        archive.slugs(|r| r.published_on == later)
    );
    assert_eq!(
        matching(json!({ "publishedFrom": iso(later) })).await,
        archive.slugs(|r| r.published_on >= later)
    );
    assert_eq!(
        matching(json!({ "publishedTo": iso(earlier) })).await,
        archive.slugs(|r| r.published_on <= earlier)
    );

    let year = later.year();
    assert_eq!(
        matching(json!({ "year": year, "programmes": [p1] })).await,
        archive.slugs(|r| r.published_on.year() == year && r.programmes.contains(&p1))
    );
    // year, month and an explicit bound intersect
    let month_start = later.with_day(1).expect("first of the month");
    let from = later
        .with_day(later.day().max(2))
        .expect("a day in the month");
    assert_eq!(
        matching(json!({ "year": year, "month": later.month(), "publishedFrom": iso(from) })).await,
        archive.slugs(|r| r.published_on >= from
            && r.published_on >= month_start
            && r.published_on.year() == year
            && r.published_on.month() == later.month())
    );
    assert_eq!(
        matching(json!({ "year": 1990 })).await,
        Vec::<String>::new()
    );

    // Scoped connections: the programme's own releases, narrowed by the filter.
    let data = app
        .data(
            r#"query($slug: String!, $year: Int) {
              programme(slug: $slug) {
                releases(first: 100, filter: { year: $year }) { totalCount nodes { slug } }
                all: releases(first: 100, orderBy: OLDEST_FIRST) { nodes { slug } }
              }
              office(slug: "geneva") {
                releases(first: 100, filter: { programmes: [$slug] }) { nodes { slug } }
              }
            }"#,
            json!({ "slug": p1, "year": year }),
        )
        .await;
    let in_year = archive.slugs(|r| r.programmes.contains(&p1) && r.published_on.year() == year);
    assert_eq!(slugs_of(&data["programme"]["releases"]["nodes"]), in_year);
    assert_eq!(
        count(&data["programme"]["releases"]["totalCount"]),
        in_year.len()
    );
    let mut oldest_first = archive.slugs(|r| r.programmes.contains(&p1));
    oldest_first.reverse();
    assert_eq!(slugs_of(&data["programme"]["all"]["nodes"]), oldest_first);
    assert_eq!(
        slugs_of(&data["office"]["releases"]["nodes"]),
        archive.slugs(|r| r.offices.contains("geneva") && r.programmes.contains(&p1))
    );
}

// -------------------------------------------------------------------- objects and lookups ---

/// `release(slug:)` returns every field as listed, with programmes and offices by name;
/// `programmes`, `offices` and their lookups match the catalogue.
async fn objects_match_the_listings_and_catalogue(backend: Backend) {
    let Fixture { app, archive, .. } = &seeded(backend).await;
    let catalogue = &archive.catalogue;
    let programme_names: HashMap<&str, &str> = catalogue
        .programmes
        .iter()
        .map(|p| (p.slug.as_str(), p.name.as_str()))
        .collect();
    let office_names: HashMap<&str, &str> = catalogue
        .offices
        .iter()
        .map(|o| (o.slug.as_str(), o.name.as_str()))
        .collect();
    let by_name = |slugs: &BTreeSet<String>, names: &HashMap<&str, &str>| -> Vec<String> {
        let mut tagged: Vec<(&str, &String)> = slugs
            .iter()
            .map(|slug| (names.get(slug.as_str()).copied().unwrap_or_default(), slug))
            .collect();
        tagged.sort();
        tagged.into_iter().map(|(_, slug)| slug.clone()).collect()
    };

    let data = app
        .data("{ releases(first: 100) { nodes { slug title publishedOn summary imageCredit programmes { slug } offices { slug } } } }", json!({}))
        .await;
    let nodes = list(&data["releases"]["nodes"]);
    assert_eq!(nodes.len(), archive.releases.len());
    for node in nodes {
        let expected = archive.by_slug(&text(&node["slug"]));
        assert_eq!(text(&node["title"]), expected.title);
        assert_eq!(text(&node["publishedOn"]), iso(expected.published_on));
        assert_eq!(node["summary"].as_str(), expected.summary.as_deref());
        assert_eq!(
            node["imageCredit"].as_str(),
            expected.image_credit.as_deref()
        );
        assert_eq!(
            slugs_of(&node["programmes"]),
            by_name(&expected.programmes, &programme_names)
        );
        assert_eq!(
            slugs_of(&node["offices"]),
            by_name(&expected.offices, &office_names)
        );
    }
    assert!(
        archive.releases.iter().any(|r| r.image_credit.is_some()),
        "some seed has a credit"
    );

    let tagged = archive
        .releases
        .iter()
        .find(|r| !r.programmes.is_empty())
        .expect("some release has a programme");
    let data = app
        .data(
            "query($slug: String!) { release(slug: $slug) { slug title programmes { slug } offices { slug } } }",
            json!({ "slug": tagged.slug }),
        )
        .await;
    assert_eq!(text(&data["release"]["title"]), tagged.title);
    assert_eq!(
        slugs_of(&data["release"]["programmes"]),
        by_name(&tagged.programmes, &programme_names)
    );
    let data = app
        .data(r#"{ release(slug: "no-such-release") { slug } programme(slug: "nope") { slug } office(slug: "nope") { slug } }"#, json!({}))
        .await;
    assert_eq!(
        data,
        json!({ "release": null, "programme": null, "office": null })
    );

    let data = app
        .data(
            "{ programmes { slug name acronym description offices { slug } } offices { slug name city countries programmes { slug } } }",
            json!({}),
        )
        .await;
    let mut expected_programmes: Vec<&ingest::catalogue::ProgrammeEntry> =
        catalogue.programmes.iter().collect();
    expected_programmes.sort_by(|a, b| (&a.name, &a.slug).cmp(&(&b.name, &b.slug)));
    let programmes = list(&data["programmes"]);
    assert_eq!(programmes.len(), expected_programmes.len());
    for (served, expected) in programmes.iter().zip(expected_programmes) {
        assert_eq!(text(&served["slug"]), expected.slug);
        assert_eq!(text(&served["name"]), expected.name);
        assert_eq!(served["acronym"].as_str(), expected.acronym.as_deref());
        assert_eq!(
            served["description"].as_str(),
            Some(expected.description.as_str())
        );
        let offices: BTreeSet<String> = expected.offices.iter().cloned().collect();
        assert_eq!(
            slugs_of(&served["offices"]),
            by_name(&offices, &office_names)
        );
    }
    let mut expected_offices: Vec<&ingest::catalogue::OfficeEntry> =
        catalogue.offices.iter().collect();
    expected_offices.sort_by(|a, b| (&a.name, &a.slug).cmp(&(&b.name, &b.slug)));
    let offices = list(&data["offices"]);
    assert_eq!(offices.len(), expected_offices.len());
    for (served, expected) in offices.iter().zip(expected_offices) {
        assert_eq!(text(&served["slug"]), expected.slug);
        assert_eq!(text(&served["name"]), expected.name);
        assert_eq!(served["city"].as_str(), expected.city.as_deref());
        assert_eq!(served["countries"], json!(expected.countries));
        let runs: BTreeSet<String> = catalogue
            .programmes
            .iter()
            .filter(|p| p.offices.contains(&expected.slug))
            .map(|p| p.slug.clone())
            .collect();
        assert_eq!(
            slugs_of(&served["programmes"]),
            by_name(&runs, &programme_names)
        );
    }

    let data = app
        .data(
            r#"{ programme(slug: "score") { slug name } office(slug: "beijing") { slug city } }"#,
            json!({}),
        )
        .await;
    assert_eq!(data["programme"]["slug"], "score");
    assert_eq!(data["office"]["city"], "Beijing");
}

/// Every id fetches its object through `node`; ids are distinct across types; a malformed id
/// is the client's error, a well-formed id of something gone is null.
async fn node_round_trips(backend: Backend) {
    let Fixture { app, archive, .. } = &seeded(backend).await;
    let data = app
        .data("{ releases(first: 3) { nodes { id slug } } programmes { id slug } offices { id slug } }", json!({}))
        .await;
    let mut ids = BTreeSet::new();
    for (list_name, type_name) in [("programmes", "Programme"), ("offices", "Office")] {
        for object in list(&data[list_name]) {
            assert!(ids.insert(text(&object["id"])), "ids are unique");
            round_trip(app, object, type_name).await;
        }
    }
    for object in list(&data["releases"]["nodes"]) {
        assert!(ids.insert(text(&object["id"])), "ids are unique");
        round_trip(app, object, "Release").await;
    }

    // A release that is gone: its id is still well formed, and resolves to null.
    let gone = &archive.releases[0];
    let release_id = text(&list(&data["releases"]["nodes"])[0]["id"]);
    assert_eq!(
        text(&list(&data["releases"]["nodes"])[0]["slug"]),
        gone.slug
    );
    release::Entity::find_by_id(gone.id)
        .one(&app.db)
        .await
        .expect("the release can be read")
        .expect("the release is stored")
        .delete(&app.db)
        .await
        .expect("the release can be deleted");
    let data = app
        .data(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": release_id }),
        )
        .await;
    assert_eq!(data["node"], Value::Null);

    for malformed in ["not-an-id", "", "UmVsZWFzZTo"] {
        let body = app
            .graphql(
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": malformed }),
            )
            .await;
        assert!(bad_user_input(&body).contains("malformed id"), "{body}");
    }
}

async fn round_trip(app: &TestApp, object: &Value, type_name: &str) {
    let data = app
        .data(
            "query($id: ID!) { node(id: $id) { __typename id ... on Release { slug } ... on Programme { slug } ... on Office { slug } } }",
            json!({ "id": object["id"] }),
        )
        .await;
    assert_eq!(data["node"]["__typename"], type_name);
    assert_eq!(data["node"]["id"], object["id"]);
    assert_eq!(data["node"]["slug"], object["slug"]);
}

// ------------------------------------------------------------------------- bad arguments ---

/// Each bad argument is a `BAD_USER_INPUT` error whose message says what to fix.
async fn bad_arguments_are_explained(backend: Backend) {
    let Fixture { app, .. } = &seeded(backend).await;
    let cursor_of = |plain: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(plain);
    let cases: Vec<(String, &str)> = vec![
        (r#"releases(filter: { programmes: ["score", "nope"] })"#.into(), r#"unknown programme "nope""#),
        (r#"releases(filter: { offices: ["atlantis"] })"#.into(), r#"unknown office "atlantis""#),
        (r#"releases(filter: { publishedFrom: "2021-06-02", publishedTo: "2021-06-01" })"#.into(), "publishedFrom (2021-06-02) is after publishedTo (2021-06-01)"),
        ("releases(filter: { month: 6 })".into(), "month needs a year"),
        ("releases(filter: { year: 2021, month: 13 })".into(), "month 13 does not exist"),
        ("releases(filter: { year: 2021, month: 0 })".into(), "month 0 does not exist"),
        ("releases(filter: { year: 20210 })".into(), "year 20210 is out of range"),
        ("releases(first: 5, last: 5)".into(), "`first` and `last` cannot be used together"),
        ("releases(first: 101)".into(), "`first` is 101"),
        ("releases(first: -1)".into(), "`first` is -1"),
        ("releases(last: 1000)".into(), "`last` is 1000"),
        (r#"releases(after: "bogus")"#.into(), "malformed cursor in `after`"),
        (r#"releases(before: "bogus!")"#.into(), "malformed cursor in `before`"),
        (format!(r#"releases(after: "{}")"#, cursor_of("2021-06-24|not-a-uuid")), "malformed cursor in `after`"),
        (format!(r#"releases(before: "{}")"#, cursor_of("Release:5")), "malformed cursor in `before`"),
        (r#"releases(filter: { publishedFrom: "24 June 2021" })"#.into(), r#""24 June 2021" is not a date: write it as YYYY-MM-DD"#),
        (r#"releases(filter: { publishedTo: "2021-02-30" })"#.into(), r#""2021-02-30" is not a date: February 2021 has 28 days"#),
        (r#"releases(filter: { publishedTo: "2021-13-01" })"#.into(), r#""2021-13-01" is not a date: month 13 does not exist"#),
        (r#"programme(slug: "score") { releases(first: 500) { totalCount } } x: releases"#.into(), "`first` is 500"),
        (r#"office(slug: "beijing") { releases(filter: { programmes: ["nope"] }) { totalCount } } x: releases"#.into(), r#"unknown programme "nope""#),
        // Caught by GraphQL validation rather than by a resolver; still the client's to fix.
        ("releases(orderBy: SIDEWAYS)".into(), "SIDEWAYS"),
        (r#"releases(first: "ten")"#.into(), "first"),
        ("releases(filter: { publishedFrom: 20210601 })".into(), "publishedFrom"),
    ];
    for (field, expected) in cases {
        let body = app
            .graphql(&format!("{{ {field} {{ totalCount }} }}"), json!({}))
            .await;
        let message = bad_user_input(&body);
        assert!(
            message.contains(expected),
            "{field}: message {message:?} lacks {expected:?}"
        );
        // The message is the scalar's own, not wrapped in the names of types the user never wrote.
        assert!(
            !message.contains("Failed to parse") && !message.contains("occurred while parsing"),
            "{field}: message {message:?} is wrapped"
        );
    }

    let body = app
        .graphql(
            r#"{ releases(filter: { programmes: ["nope"] }) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert!(
        bad_user_input(&body).contains("score"),
        "the valid slugs are listed: {body}"
    );

    // The same checks apply to values passed as variables.
    let body = app
        .graphql(
            "query($filter: ReleaseFilter) { releases(filter: $filter) { totalCount } }",
            json!({ "filter": { "publishedFrom": "yesterday" } }),
        )
        .await;
    assert!(
        bad_user_input(&body).contains(r#""yesterday" is not a date"#),
        "{body}"
    );
    let body = app
        .graphql(
            "query($after: String) { releases(after: $after) { totalCount } }",
            json!({ "after": "not a cursor" }),
        )
        .await;
    assert!(bad_user_input(&body).contains("malformed cursor"), "{body}");
    let body = app.graphql("{ releases { totalCount ", json!({})).await;
    bad_user_input(&body);

    // 100 releases, each listing 100 releases of each of its programmes: refused up front.
    let body = app
        .graphql(
            "{ releases(first: 100) { nodes { programmes { releases(first: 100) { nodes { title summary } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX",
        "{body}"
    );
    assert!(
        text(&body["errors"][0]["message"]).contains("smaller pages"),
        "{body}"
    );
    assert!(body.get("data").is_none(), "nothing ran: {body}");
}

// --------------------------------------------------------------------- statement counts ---

/// One request for 100 releases with their programmes and offices runs one SQL statement, as
/// one for a single release does: the tags come in the page's own rows, no N+1.
async fn a_page_of_100_releases_runs_a_fixed_number_of_statements(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let dir = tempfile::tempdir().expect("temporary folder");
    let synthetic = write_synthetic_listing(dir.path(), "synthetic.txt", date(2019, 1, 1), 120);
    let mut db = database.connect().await;
    load_listings(&db, &[synthetic]).await;
    let statements = record_statements(&mut db);
    let app = spawn_app_with(db).await;
    let run = async |query: &str| -> (Value, Vec<String>) {
        statements.lock().expect("statement log").clear();
        let data = app.data(query, json!({})).await;
        let sql = std::mem::take(&mut *statements.lock().expect("statement log"));
        (data, sql)
    };
    const PAGE: &str = "nodes { slug title programmes { slug name } offices { slug name } }";

    let (data, sql) = run(&format!("{{ releases(first: 100) {{ {PAGE} }} }}")).await;
    let nodes = list(&data["releases"]["nodes"]);
    assert_eq!(nodes.len(), 100);
    let nodes_slug = nodes[0]["slug"].clone();
    assert!(nodes.iter().any(|n| !list(&n["programmes"]).is_empty()));
    assert!(nodes.iter().any(|n| list(&n["offices"]).len() > 1));
    eprintln!(
        "{backend:?}: 100 releases with programmes and offices: {} statements",
        sql.len()
    );
    assert_eq!(sql.len(), 1, "the page, tags included: {sql:#?}");
    assert!(
        !sql.iter().any(|s| s.to_uppercase().contains("COUNT(")),
        "no count unless totalCount is selected: {sql:#?}"
    );

    let (_, single) = run(&format!("{{ releases(first: 1) {{ {PAGE} }} }}")).await;
    assert_eq!(single.len(), sql.len(), "one release costs what 100 cost");

    let (data, sql) = run(&format!(
        "{{ releases(first: 100, filter: {{ programmes: [\"score\"], year: 2019 }}) {{ totalCount {PAGE} }} }}"
    ))
    .await;
    assert_eq!(count(&data["releases"]["totalCount"]), 40);
    eprintln!(
        "{backend:?}: the same, filtered and counted: {} statements",
        sql.len()
    );
    assert!(sql.len() <= 3, "slugs, page, count: {sql:#?}");
    // The total is the sum of the programme's precomputed counts per day: no COUNT at all.
    assert_eq!(
        sql.iter()
            .filter(|s| s.to_uppercase().contains("COUNT("))
            .count(),
        0,
        "{sql:#?}"
    );
    assert_eq!(
        sql.iter()
            .filter(|s| s.contains("release_tag_day_count") && s.to_uppercase().contains("SUM("))
            .count(),
        1,
        "{sql:#?}"
    );

    let (data, sql) = run(&format!(
        "{{ release(slug: \"{}\") {{ slug programmes {{ slug }} offices {{ slug }} }} }}",
        text(&nodes_slug)
    ))
    .await;
    assert!(!list(&data["release"]["offices"]).is_empty(), "{data}");
    assert_eq!(sql.len(), 1, "a release by slug, tags included: {sql:#?}");

    let (_, sql) = run(
        "{ programmes { releaseCount firstPublishedOn lastPublishedOn offices { slug } } offices { releaseCount programmes { slug } } }",
    )
    .await;
    assert_eq!(
        sql.len(),
        6,
        "programmes, their stats and offices; offices, their stats and programmes: {sql:#?}"
    );
    drop(app);
}

// ---------------------------------------------------------------------------------- HTTP ---

/// Probes, the redirect, the playground, GET queries (and only queries), and the served schema.
async fn http_surface(backend: Backend) {
    let Fixture { app, .. } = &seeded(backend).await;

    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);

    let root = app.get("/").await;
    assert_eq!(root.status(), 200, "the explorer");

    let playground = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .expect("GET /graphql");
    assert_eq!(playground.status(), 200);
    let content_type = playground
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = playground.text().await.expect("the playground page");
    assert!(page.contains("GraphiQL"), "a GraphiQL page");
    assert!(
        page.contains("defaultQuery"),
        "opened with an example query"
    );
    assert!(
        page.contains("query ReleasesByProgramme"),
        "the example shows releases by programme"
    );
    assert!(
        page.contains(r#"programmes: [\"score\"]"#),
        "the example filters by programme"
    );

    let response = app
        .graphql_get(
            "query($slug: String!) { programme(slug: $slug) { slug } }",
            json!({ "slug": "score" }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["data"]["programme"]["slug"], "score");

    let response = app.graphql_get("mutation { anything }", json!({})).await;
    assert_eq!(response.status(), 405);
    let body: Value = response.json().await.expect("JSON");
    assert!(bad_user_input(&body).contains("only queries"), "{body}");

    let response = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "application/json")
        .send()
        .await
        .expect("GET /graphql");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("JSON");
    assert!(bad_user_input(&body).contains("no query"), "{body}");

    let response = app
        .get("/graphql?query=%7B%20releases%20%7B%20totalCount%20%7D%20%7D&variables=%7Bnot-json")
        .await;
    assert_eq!(response.status(), 400);

    let served = app
        .get("/schema.graphql")
        .await
        .text()
        .await
        .expect("the schema");
    assert_eq!(served, api::sdl());

    assert_eq!(app.get("/no-such-page").await.status(), 404);
}

/// `/readyz` turns 503 when the database cannot be reached, while `/healthz` stays 200.
async fn readiness_follows_the_database(backend: Backend) {
    let Fixture { app, .. } = &seeded(backend).await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    app.db.close_by_ref().await.expect("the pool closes");
    assert_eq!(app.get("/readyz").await.status(), 503);
    assert_eq!(app.get("/healthz").await.status(), 200);
    let body = app.graphql("{ programmes { slug } }", json!({})).await;
    let errors = list(&body["errors"]);
    assert_eq!(
        errors[0]["extensions"]["code"], "SERVICE_UNAVAILABLE",
        "{body}"
    );
    let message = text(&errors[0]["message"]);
    assert!(
        !message.to_lowercase().contains("pool"),
        "no database details leak: {message}"
    );
}

/// A fresh archive with nothing loaded: empty pages, zero counts, and unknown slugs explained.
async fn an_empty_archive_is_served(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let app = spawn_app_with(database.connect().await).await;
    let data = app
        .data("{ releases { totalCount nodes { slug } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } programmes { slug } }", json!({}))
        .await;
    assert_eq!(
        data,
        json!({
            "releases": {
                "totalCount": 0,
                "nodes": [],
                "pageInfo": { "hasNextPage": false, "hasPreviousPage": false, "startCursor": null, "endCursor": null }
            },
            "programmes": []
        })
    );
    let body = app
        .graphql(
            r#"{ releases(filter: { offices: ["beijing"] }) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert!(bad_user_input(&body).contains("no offices yet"), "{body}");
    drop(app);
}

// ---------------------------------------------------------------------------- the schema ---

/// Every type, field, argument, input field and enum value carries a description, and the
/// three `releases` fields describe their arguments alike.
async fn the_schema_is_documented(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let app = spawn_app_with(database.connect().await).await;
    let data = app
        .data(
            r#"{ __schema { types {
                name description
                fields { name description args { name description } }
                inputFields { name description }
                enumValues { name description }
            } } }"#,
            json!({}),
        )
        .await;
    let described = |value: &Value| value.as_str().is_some_and(|d| !d.trim().is_empty());
    let mut undocumented = Vec::new();
    let mut releases_arguments = Vec::new();
    for ty in list(&data["__schema"]["types"]) {
        let name = text(&ty["name"]);
        if name.starts_with("__") {
            continue;
        }
        // `ID` is async-graphql's built-in scalar, which comes without a description.
        if !described(&ty["description"]) && name != "ID" {
            undocumented.push(name.clone());
        }
        for field in ty["fields"].as_array().into_iter().flatten() {
            let field_name = text(&field["name"]);
            if !described(&field["description"]) {
                undocumented.push(format!("{name}.{field_name}"));
            }
            for arg in list(&field["args"]) {
                if !described(&arg["description"]) {
                    undocumented.push(format!("{name}.{field_name}({})", text(&arg["name"])));
                }
            }
            if field_name == "releases" {
                releases_arguments.push((name.clone(), field["args"].clone()));
            }
        }
        for input in ty["inputFields"].as_array().into_iter().flatten() {
            if !described(&input["description"]) {
                undocumented.push(format!("{name}.{}", text(&input["name"])));
            }
        }
        for value in ty["enumValues"].as_array().into_iter().flatten() {
            if !described(&value["description"]) {
                undocumented.push(format!("{name}.{}", text(&value["name"])));
            }
        }
    }
    assert!(undocumented.is_empty(), "undocumented: {undocumented:?}");
    assert_eq!(
        releases_arguments.len(),
        3,
        "Query, Programme and Office list releases"
    );
    for (owner, arguments) in &releases_arguments[1..] {
        assert_eq!(
            arguments, &releases_arguments[0].1,
            "{owner}.releases arguments"
        );
    }
    drop(app);
}

/// The introspection query GraphiQL and code generators send (graphql-js
/// `getIntrospectionQuery`) passes the complexity limit.
async fn full_introspection_is_allowed(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let app = spawn_app_with(database.connect().await).await;
    let data = app.data(INTROSPECTION_QUERY, json!({})).await;
    assert_eq!(data["__schema"]["queryType"]["name"], "Query");
    drop(app);
}

const INTROSPECTION_QUERY: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description
    args { ...InputValue }
    type { ...TypeRef }
    isDeprecated deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
}
"#;

/// `schema.graphql` is what the server serves; regenerate it with
/// `cargo run -p api -- schema > schema.graphql`.
#[test]
fn committed_schema_is_current() {
    let committed = std::fs::read_to_string(repo_root().join("schema.graphql"))
        .expect("schema.graphql exists at the repository root");
    assert!(
        committed == api::sdl(),
        "schema.graphql is out of date: run `cargo run -p api -- schema > schema.graphql`"
    );
}

both_backends!(
    walks_in_pages_of_seven_meet_every_release_once,
    walks_through_one_programme_or_office,
    releases_are_ordered_by_date_then_id,
    page_sizes_and_cursor_windows,
    counts_per_programme_office_and_year,
    filters_combine,
    objects_match_the_listings_and_catalogue,
    node_round_trips,
    bad_arguments_are_explained,
    a_page_of_100_releases_runs_a_fixed_number_of_statements,
    http_surface,
    readiness_follows_the_database,
    an_empty_archive_is_served,
    the_schema_is_documented,
    full_introspection_is_allowed,
);
