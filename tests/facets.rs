//! `releaseFacets` end to end, on PostgreSQL and SQLite: counts by year, month, programme and
//! office under the faceted-search rule (each facet applies every criterion except its own).
//! Expected counts are worked out in Rust from the listings parsed and tagged with
//! `ingest::prepare`, never taken from the server.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{Datelike, Days, NaiveDate};
use serde_json::{Value, json};

use ingest::catalogue::Catalogue;
use integration_tests::app::{TestApp, load_listings, spawn_app, spawn_app_with};
use integration_tests::expected::tag_slugs;
use integration_tests::json::{list, number};
use integration_tests::{
    Backend, TestDatabase, both_backends, catalogue_path, date, prepare_listings,
    record_statements, seeds_dir,
};

// ------------------------------------------------------------------------------- fixtures ---

/// A release as the listings say it is dated and tagged.
#[derive(Debug, Clone)]
struct Tagged {
    published_on: NaiveDate,
    programmes: BTreeSet<String>,
    offices: BTreeSet<String>,
}

/// The releases of some listings, and the catalogue names used to break ties.
#[derive(Debug)]
struct Expected {
    releases: Vec<Tagged>,
    names: BTreeMap<String, String>,
}

impl Expected {
    /// Parses and tags `paths` (files or folders) as ingest does.
    fn from_listings(paths: &[PathBuf]) -> Expected {
        let catalogue = Catalogue::load(&catalogue_path()).expect("the seed catalogue loads");
        let input = prepare_listings(paths);
        let releases = input
            .releases
            .into_iter()
            .map(|prepared| {
                let (programmes, offices) = tag_slugs(prepared.tags);
                Tagged {
                    published_on: prepared.release.published_on,
                    programmes,
                    offices,
                }
            })
            .collect();
        let names = catalogue
            .programmes
            .iter()
            .map(|p| (p.slug.clone(), p.name.clone()))
            .chain(
                catalogue
                    .offices
                    .iter()
                    .map(|o| (o.slug.clone(), o.name.clone())),
            )
            .collect();
        Expected { releases, names }
    }

    /// The facets of `criteria`, computed the slow and obvious way.
    fn facets(&self, criteria: &Criteria) -> Facets {
        let matching = |skip: Dimension| {
            self.releases
                .iter()
                .filter(move |release| criteria.matches(release, skip))
        };
        let mut years: BTreeMap<i32, u64> = BTreeMap::new();
        for release in matching(Dimension::YearAndMonth) {
            *years.entry(release.published_on.year()).or_default() += 1;
        }
        let mut months: BTreeMap<(i32, u32), u64> = BTreeMap::new();
        for release in matching(Dimension::Month) {
            let day = release.published_on;
            *months.entry((day.year(), day.month())).or_default() += 1;
        }
        let mut programmes: BTreeMap<String, u64> = BTreeMap::new();
        for release in matching(Dimension::Programmes) {
            for slug in &release.programmes {
                *programmes.entry(slug.clone()).or_default() += 1;
            }
        }
        let mut offices: BTreeMap<String, u64> = BTreeMap::new();
        for release in matching(Dimension::Offices) {
            for slug in &release.offices {
                *offices.entry(slug.clone()).or_default() += 1;
            }
        }
        Facets {
            total: matching(Dimension::None).count() as u64,
            years: years.into_iter().rev().collect(),
            months: months.into_iter().rev().collect(),
            programmes: self.largest_first(programmes),
            offices: self.largest_first(offices),
        }
    }

    /// By count, largest first; ties by name, then slug.
    fn largest_first(&self, counts: BTreeMap<String, u64>) -> Vec<(String, u64)> {
        let mut counts: Vec<(String, u64)> = counts.into_iter().collect();
        counts.sort_by(|(a, a_count), (b, b_count)| {
            b_count
                .cmp(a_count)
                .then_with(|| self.names.get(a).cmp(&self.names.get(b)))
                .then_with(|| a.cmp(b))
        });
        counts
    }
}

/// Which criterion a facet leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dimension {
    None,
    YearAndMonth,
    Month,
    Programmes,
    Offices,
}

/// A `ReleaseFilter`, both as sent and as checked in Rust.
#[derive(Debug, Clone, Default)]
struct Criteria {
    programmes: Vec<String>,
    offices: Vec<String>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    year: Option<i32>,
    month: Option<u32>,
}

impl Criteria {
    fn programme(slug: &str) -> Criteria {
        Criteria {
            programmes: vec![slug.to_owned()],
            ..Criteria::default()
        }
    }

    fn office(slug: &str) -> Criteria {
        Criteria {
            offices: vec![slug.to_owned()],
            ..Criteria::default()
        }
    }

    fn year(year: i32) -> Criteria {
        Criteria {
            year: Some(year),
            ..Criteria::default()
        }
    }

    fn matches(&self, release: &Tagged, skip: Dimension) -> bool {
        let day = release.published_on;
        let any_of = |wanted: &[String], tags: &BTreeSet<String>| {
            wanted.is_empty() || wanted.iter().any(|slug| tags.contains(slug))
        };
        (skip == Dimension::Programmes || any_of(&self.programmes, &release.programmes))
            && (skip == Dimension::Offices || any_of(&self.offices, &release.offices))
            && self.from.is_none_or(|from| day >= from)
            && self.to.is_none_or(|to| day <= to)
            && (skip == Dimension::YearAndMonth || self.year.is_none_or(|y| day.year() == y))
            && (matches!(skip, Dimension::YearAndMonth | Dimension::Month)
                || self.month.is_none_or(|m| day.month() == m))
    }

    fn to_json(&self) -> Value {
        let mut filter = serde_json::Map::new();
        if !self.programmes.is_empty() {
            filter.insert("programmes".into(), json!(self.programmes));
        }
        if !self.offices.is_empty() {
            filter.insert("offices".into(), json!(self.offices));
        }
        if let Some(from) = self.from {
            filter.insert("publishedFrom".into(), json!(from.to_string()));
        }
        if let Some(to) = self.to {
            filter.insert("publishedTo".into(), json!(to.to_string()));
        }
        if let Some(year) = self.year {
            filter.insert("year".into(), json!(year));
        }
        if let Some(month) = self.month {
            filter.insert("month".into(), json!(month));
        }
        Value::Object(filter)
    }
}

/// Facets as served, in the order served.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Facets {
    total: u64,
    years: Vec<(i32, u64)>,
    months: Vec<((i32, u32), u64)>,
    programmes: Vec<(String, u64)>,
    offices: Vec<(String, u64)>,
}

const FACETS: &str = r#"
query Facets($filter: ReleaseFilter) {
  releaseFacets(filter: $filter) {
    total
    years { year count }
    months { year month count }
    programmes { programme { slug name } count }
    offices { office { slug name } count }
  }
}"#;

fn small(value: &Value) -> i32 {
    i32::try_from(number(value)).expect("a year or month")
}

fn parse_facets(data: &Value) -> Facets {
    let facets = &data["releaseFacets"];
    let tagged = |field: &str, object: &str| -> Vec<(String, u64)> {
        list(&facets[field])
            .iter()
            .map(|entry| {
                let slug = entry[object]["slug"].as_str().expect("a slug");
                (slug.to_owned(), number(&entry["count"]))
            })
            .collect()
    };
    Facets {
        total: number(&facets["total"]),
        years: list(&facets["years"])
            .iter()
            .map(|entry| (small(&entry["year"]), number(&entry["count"])))
            .collect(),
        months: list(&facets["months"])
            .iter()
            .map(|entry| {
                let month = u32::try_from(small(&entry["month"])).expect("a month");
                ((small(&entry["year"]), month), number(&entry["count"]))
            })
            .collect(),
        programmes: tagged("programmes", "programme"),
        offices: tagged("offices", "office"),
    }
}

async fn facets(app: &TestApp, criteria: &Criteria) -> Facets {
    let data = app
        .data(FACETS, json!({ "filter": criteria.to_json() }))
        .await;
    parse_facets(&data)
}

/// The server's facets for `criteria` are the expected ones; returns them.
async fn check(app: &TestApp, expected: &Expected, criteria: &Criteria) -> Facets {
    let served = facets(app, criteria).await;
    assert_eq!(served, expected.facets(criteria), "facets of {criteria:?}");
    let counts = served
        .years
        .iter()
        .map(|(_, n)| n)
        .chain(served.months.iter().map(|(_, n)| n))
        .chain(served.programmes.iter().map(|(_, n)| n))
        .chain(served.offices.iter().map(|(_, n)| n));
    for count in counts {
        assert!(*count > 0, "zero-count entries are left out: {served:?}");
    }
    served
}

/// A server over the seeds, and what it should count. Fields drop in order: the server stops
/// before its database is removed.
struct Fixture {
    app: TestApp,
    expected: Expected,
    _database: TestDatabase,
}

async fn seeded(backend: Backend) -> Fixture {
    let database = TestDatabase::new(backend).await;
    let app = spawn_app(&database).await;
    Fixture {
        app,
        expected: Expected::from_listings(&[seeds_dir()]),
        _database: database,
    }
}

/// A listing of `count` made-up releases from `first_day`, one every `step` days, alternately
/// about SCORE and about the ILO Director-General (the Geneva office).
fn write_listing(dir: &Path, first_day: NaiveDate, step: u64, count: u64) -> PathBuf {
    let mut text =
        String::from("News and press releases\n\nReleases made up for the facet tests.\n\n");
    for i in 0..count {
        let day = first_day + Days::new(i * step);
        let topic = if i % 2 == 0 {
            "SCORE training for small enterprises"
        } else {
            "remarks by the ILO Director-General"
        };
        text.push_str(&format!(
            "  {n}. Made-up release {n}: {topic}\n\n    {day}\n\n    Summary of made-up release {n}.\n\n",
            n = i + 1,
            day = day.format("%-d %B %Y"),
        ));
    }
    let path = dir.join("made-up.txt");
    std::fs::write(&path, text).expect("the listing can be written");
    path
}

// ---------------------------------------------------------------------------------- tests ---

/// Without a filter, every facet counts the whole archive.
async fn unfiltered_facets_count_the_whole_archive(backend: Backend) {
    let Fixture { app, expected, .. } = &seeded(backend).await;
    let all = check(app, expected, &Criteria::default()).await;
    assert_eq!(all.total, expected.releases.len() as u64);
    assert!(
        all.years.len() >= 2,
        "the seeds span several years: {all:?}"
    );
    assert_eq!(all.years.iter().map(|(_, n)| n).sum::<u64>(), all.total);
    assert_eq!(all.months.iter().map(|(_, n)| n).sum::<u64>(), all.total);
    assert!(all.programmes.len() >= 3, "several programmes: {all:?}");
    assert!(all.offices.len() >= 2, "several offices: {all:?}");
    // An explicit empty filter, or empty slug lists, are no filter.
    let empty = app
        .data(
            FACETS,
            json!({ "filter": { "programmes": [], "offices": [] } }),
        )
        .await;
    assert_eq!(parse_facets(&empty), all);
    let omitted = app.data(FACETS, json!({})).await;
    assert_eq!(parse_facets(&omitted), all);
}

/// Choosing a programme, an office, a year or a month narrows every other facet and `total`,
/// but not the facet of its own dimension.
async fn each_facet_ignores_its_own_dimension(backend: Backend) {
    let Fixture { app, expected, .. } = &seeded(backend).await;
    let all = check(app, expected, &Criteria::default()).await;
    let count_of = |counts: &[(String, u64)], slug: &str| {
        counts
            .iter()
            .find(|(s, _)| s == slug)
            .map(|(_, n)| *n)
            .unwrap_or_default()
    };

    let score = check(app, expected, &Criteria::programme("score")).await;
    assert!(
        count_of(&all.programmes, "score") > 0,
        "the seeds mention SCORE"
    );
    assert_eq!(score.total, count_of(&all.programmes, "score"));
    assert_eq!(
        score.programmes, all.programmes,
        "programmes stay unfiltered"
    );
    assert_ne!(
        score.offices, all.offices,
        "offices count only SCORE releases"
    );
    assert_eq!(score.years.iter().map(|(_, n)| n).sum::<u64>(), score.total);
    assert_eq!(
        score.months.iter().map(|(_, n)| n).sum::<u64>(),
        score.total
    );

    // The least common office, so that choosing it changes the other facets.
    let (office, office_count) = all.offices.last().cloned().expect("offices");
    let by_office = check(app, expected, &Criteria::office(&office)).await;
    assert_eq!(by_office.total, office_count);
    assert_eq!(by_office.offices, all.offices, "offices stay unfiltered");
    assert!(by_office.total < all.total);

    // A year: the years facet is unaffected, the months are that year's.
    let (year, year_count) = all.years[0];
    let in_year = check(app, expected, &Criteria::year(year)).await;
    assert_eq!(in_year.total, year_count);
    assert_eq!(in_year.years, all.years, "years stay unfiltered");
    assert!(in_year.months.iter().all(|((y, _), _)| *y == year));
    let months_of_year: Vec<_> = all
        .months
        .iter()
        .filter(|((y, _), _)| *y == year)
        .cloned()
        .collect();
    assert_eq!(in_year.months, months_of_year);

    // A month: the years facet is still unaffected, the months still those of its year.
    let ((_, month), month_count) = in_year.months[0];
    let in_month = check(
        app,
        expected,
        &Criteria {
            year: Some(year),
            month: Some(month),
            ..Criteria::default()
        },
    )
    .await;
    assert_eq!(in_month.total, month_count);
    assert_eq!(in_month.years, all.years);
    assert_eq!(in_month.months, in_year.months);
}

/// Several criteria at once, a date range, and buckets left out when nothing is in them.
async fn combined_filters_and_empty_buckets(backend: Backend) {
    let Fixture { app, expected, .. } = &seeded(backend).await;
    let all = check(app, expected, &Criteria::default()).await;
    let score_years: BTreeSet<i32> = expected
        .releases
        .iter()
        .filter(|r| r.programmes.contains("score"))
        .map(|r| r.published_on.year())
        .collect();
    let year = *score_years
        .iter()
        .next()
        .expect("a year with SCORE releases");

    let combined = Criteria {
        programmes: vec!["score".to_owned()],
        year: Some(year),
        ..Criteria::default()
    };
    let facets = check(app, expected, &combined).await;
    assert!(facets.total > 0);
    assert!(
        facets.programmes.len() < all.programmes.len(),
        "programmes without releases that year are left out: {facets:?}"
    );
    assert!(
        facets.years.len() == score_years.len() && facets.years.len() < all.years.len(),
        "only years with SCORE releases: {facets:?}"
    );

    // Two programmes and two offices, within a date range that cuts a year in two.
    let (first, last) = (
        expected.releases.iter().map(|r| r.published_on).min(),
        expected.releases.iter().map(|r| r.published_on).max(),
    );
    let (first, last) = (first.expect("releases"), last.expect("releases"));
    let middle = first + (last - first) / 2;
    let programmes: Vec<String> = all
        .programmes
        .iter()
        .take(2)
        .map(|(s, _)| s.clone())
        .collect();
    let offices: Vec<String> = all.offices.iter().take(2).map(|(s, _)| s.clone()).collect();
    check(
        app,
        expected,
        &Criteria {
            programmes: programmes.clone(),
            offices: offices.clone(),
            from: Some(middle),
            ..Criteria::default()
        },
    )
    .await;
    check(
        app,
        expected,
        &Criteria {
            programmes,
            offices,
            to: Some(middle),
            year: Some(middle.year()),
            ..Criteria::default()
        },
    )
    .await;

    // Nothing at all: every list is empty and the total is zero.
    let nothing = check(
        app,
        expected,
        &Criteria {
            year: Some(1999),
            ..Criteria::default()
        },
    )
    .await;
    assert_eq!(nothing.total, 0);
    assert!(nothing.months.is_empty() && nothing.programmes.is_empty());
    assert!(nothing.offices.is_empty());
    assert_eq!(
        nothing.years, all.years,
        "years still show where releases are"
    );
}

/// Ties are broken the same way every time: newest first; largest first, then by name.
async fn facets_are_ordered(backend: Backend) {
    let Fixture { app, expected, .. } = &seeded(backend).await;
    let data = app.data(FACETS, json!({})).await;
    let facets = &data["releaseFacets"];
    let years: Vec<i32> = list(&facets["years"])
        .iter()
        .map(|y| small(&y["year"]))
        .collect();
    assert!(years.windows(2).all(|w| w[0] > w[1]), "{years:?}");
    let months: Vec<(i32, i32)> = list(&facets["months"])
        .iter()
        .map(|m| (small(&m["year"]), small(&m["month"])))
        .collect();
    assert!(months.windows(2).all(|w| w[0] > w[1]), "{months:?}");
    for (field, object) in [("programmes", "programme"), ("offices", "office")] {
        let entries: Vec<(u64, String)> = list(&facets[field])
            .iter()
            .map(|e| {
                let name = e[object]["name"].as_str().expect("a name").to_owned();
                (number(&e["count"]), name)
            })
            .collect();
        assert!(
            entries
                .windows(2)
                .all(|w| w[0].0 > w[1].0 || (w[0].0 == w[1].0 && w[0].1 <= w[1].1)),
            "{field}: {entries:?}"
        );
        for entry in list(&facets[field]) {
            let slug = entry[object]["slug"].as_str().expect("a slug");
            assert_eq!(
                entry[object]["name"].as_str(),
                expected.names.get(slug).map(String::as_str),
                "the catalogue's {object}"
            );
        }
    }
}

/// A filter `releases` refuses is refused here too, with the same message and code, and before
/// any statement runs when no lookup is needed.
async fn bad_filters_are_bad_user_input(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let mut db = database.connect().await;
    load_listings(&db, &[seeds_dir()]).await;
    let statements = record_statements(&mut db);
    let app = spawn_app_with(db).await;
    let releases_query =
        "query($filter: ReleaseFilter) { releases(filter: $filter) { totalCount } }";
    for (filter, says) in [
        (
            json!({ "programmes": ["no-such-programme"] }),
            "unknown programme",
        ),
        (json!({ "offices": ["atlantis"] }), "unknown office"),
        (json!({ "month": 3 }), "month needs a year"),
        (json!({ "year": 2021, "month": 13 }), "month 13"),
        (json!({ "year": 0 }), "year 0"),
        (
            json!({ "publishedFrom": "2021-02-01", "publishedTo": "2021-01-01" }),
            "is after",
        ),
    ] {
        statements.lock().expect("statement log").clear();
        let body = app.graphql(FACETS, json!({ "filter": filter })).await;
        let ran = std::mem::take(&mut *statements.lock().expect("statement log"));
        let errors = list(&body["errors"]);
        assert_eq!(errors.len(), 1, "{body}");
        assert_eq!(errors[0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
        let message = errors[0]["message"].as_str().expect("a message");
        assert!(message.contains(says), "{filter}: {message}");
        assert_eq!(body["data"], Value::Null, "{body}");
        let from_releases = app
            .graphql(releases_query, json!({ "filter": filter }))
            .await;
        assert_eq!(
            from_releases["errors"][0]["message"], errors[0]["message"],
            "the same message as `releases`"
        );
        if !says.starts_with("unknown") {
            assert!(ran.is_empty(), "{filter}: nothing runs: {ran:#?}");
        }
    }
    let body = app
        .graphql(FACETS, json!({ "filter": { "year": "2021" } }))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    drop(app);
}

/// A request is a fixed, small number of statements, however many buckets it returns: the
/// per-day, per-programme and per-office counts, plus one lookup per kind of slug filtered on.
async fn facets_run_a_fixed_number_of_statements(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let mut db = database.connect().await;
    load_listings(&db, &[seeds_dir()]).await;
    let statements = record_statements(&mut db);
    let app = spawn_app_with(db).await;
    let run = async |criteria: &Criteria| -> (Facets, Vec<String>) {
        statements.lock().expect("statement log").clear();
        let facets = facets(&app, criteria).await;
        let sql = std::mem::take(&mut *statements.lock().expect("statement log"));
        (facets, sql)
    };
    let both = Criteria {
        programmes: vec!["score".to_owned()],
        offices: vec!["beijing".to_owned(), "geneva".to_owned()],
        year: Some(2021),
        ..Criteria::default()
    };

    let (small, unfiltered) = run(&Criteria::default()).await;
    eprintln!(
        "{backend:?}: unfiltered facets: {} statements",
        unfiltered.len()
    );
    assert_eq!(
        unfiltered.len(),
        3,
        "days, programmes, offices: {unfiltered:#?}"
    );
    let (_, filtered) = run(&both).await;
    eprintln!(
        "{backend:?}: filtered facets: {} statements",
        filtered.len()
    );
    assert_eq!(
        filtered.len(),
        5,
        "programme slugs, office slugs, days, programmes, offices: {filtered:#?}"
    );
    let (_, by_year) = run(&Criteria::year(2021)).await;
    assert_eq!(by_year.len(), 3, "a year needs no lookup: {by_year:#?}");

    // Ten years of made-up releases: many more buckets, the same statements.
    let dir = tempfile::tempdir().expect("temporary folder");
    let listing = write_listing(dir.path(), date(2000, 1, 5), 9, 400);
    load_listings(&app.db, std::slice::from_ref(&listing)).await;
    let (large, more) = run(&Criteria::default()).await;
    let expected = Expected::from_listings(&[seeds_dir(), listing]);
    assert_eq!(large, expected.facets(&Criteria::default()));
    assert!(large.months.len() > small.months.len() + 90, "{large:?}");
    assert_eq!(more.len(), unfiltered.len(), "{more:#?}");
    let (_, more) = run(&both).await;
    assert_eq!(more.len(), filtered.len(), "{more:#?}");
    drop(app);
}

/// Every programme, every office, SCORE with each office, and each year on its own: the
/// criteria the precomputed counts answer, over `expected`'s releases.
fn precomputed_criteria(expected: &Expected) -> Vec<Criteria> {
    let all = expected.facets(&Criteria::default());
    let mut criteria = vec![Criteria::default()];
    criteria.extend(
        all.programmes
            .iter()
            .map(|(slug, _)| Criteria::programme(slug)),
    );
    criteria.extend(all.offices.iter().map(|(slug, _)| Criteria::office(slug)));
    criteria.extend(all.offices.iter().map(|(slug, _)| Criteria {
        programmes: vec!["score".to_owned()],
        offices: vec![slug.clone()],
        ..Criteria::default()
    }));
    criteria.extend(all.years.iter().map(|(year, _)| Criteria::year(*year)));
    if let Some((year, _)) = all.years.first() {
        criteria.push(Criteria {
            programmes: vec!["score".to_owned()],
            from: Some(date(*year, 3, 1)),
            to: Some(date(*year, 10, 31)),
            ..Criteria::default()
        });
    }
    criteria
}

/// `(key, count)` rows of a count query, sorted, for comparing a count table with the same
/// counts taken from the base tables. Plain SQL both backends accept.
async fn count_rows(db: &sea_orm::DatabaseConnection, sql: &str) -> Vec<(String, i64)> {
    use sea_orm::ConnectionTrait;
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut rows: Vec<(String, i64)> = rows
        .iter()
        .map(|row| {
            (
                row.try_get_by_index(0).expect("a key"),
                row.try_get_by_index(1).expect("a count"),
            )
        })
        .collect();
    rows.sort();
    rows
}

/// The three count tables hold exactly what grouping the base tables gives now.
async fn assert_counts_match_base_tables(db: &sea_orm::DatabaseConnection) {
    for (table, base) in [
        (
            "SELECT CAST(published_on AS TEXT), CAST(releases AS BIGINT) FROM release_day_count",
            "SELECT CAST(published_on AS TEXT), CAST(COUNT(*) AS BIGINT) FROM release
             GROUP BY published_on",
        ),
        (
            "SELECT CAST(kind AS TEXT) || ':' || CAST(tag_id AS TEXT) || ':'
                    || CAST(published_on AS TEXT), CAST(releases AS BIGINT)
             FROM release_tag_day_count",
            "SELECT '1:' || CAST(programme_id AS TEXT) || ':' || CAST(published_on AS TEXT),
                    CAST(COUNT(*) AS BIGINT)
             FROM release_programme GROUP BY programme_id, published_on
             UNION ALL
             SELECT '2:' || CAST(office_id AS TEXT) || ':' || CAST(published_on AS TEXT),
                    CAST(COUNT(*) AS BIGINT)
             FROM release_office GROUP BY office_id, published_on",
        ),
        (
            "SELECT CAST(programme_id AS TEXT) || ':' || CAST(office_id AS TEXT) || ':'
                    || CAST(published_on AS TEXT), CAST(releases AS BIGINT)
             FROM release_pair_day_count",
            "SELECT CAST(p.programme_id AS TEXT) || ':' || CAST(o.office_id AS TEXT) || ':'
                    || CAST(p.published_on AS TEXT), CAST(COUNT(*) AS BIGINT)
             FROM release_programme p JOIN release_office o ON o.release_id = p.release_id
             GROUP BY p.programme_id, o.office_id, p.published_on",
        ),
    ] {
        let stored = count_rows(db, table).await;
        assert!(!stored.is_empty(), "{table}");
        assert_eq!(stored, count_rows(db, base).await, "{table}");
    }
}

/// The precomputed counts follow every run: after a first load, after an update that gives a
/// release a programme it lacked, and after `--prune`, facets are those worked out from the
/// listings of that moment, and the count tables equal the base tables grouped.
async fn precomputed_counts_follow_updates_and_prunes(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let db = database.connect().await;
    let dir = tempfile::tempdir().expect("temporary folder");
    let files: Vec<PathBuf> = integration_tests::seed_listings()
        .iter()
        .map(|path| {
            let copy = dir.path().join(path.file_name().expect("a file name"));
            std::fs::copy(path, &copy).expect("the seed can be copied");
            copy
        })
        .collect();
    let run = async |paths: &[PathBuf], prune: bool| {
        ingest::ingest_paths(
            &db,
            &catalogue_path(),
            paths,
            ingest::LoadOptions { prune },
            &ingest::NoProgress,
        )
        .await
        .expect("the run succeeds")
    };
    run(&files, false).await;
    let app = spawn_app_with(db.clone()).await;
    let before = Expected::from_listings(&files);
    for criteria in precomputed_criteria(&before) {
        check(&app, &before, &criteria).await;
    }
    assert_counts_match_base_tables(&db).await;

    // One release's summary now names SCORE: it gains the programme, on its own date.
    let text = std::fs::read_to_string(&files[1]).expect("the copy reads");
    let (from, to) = ("says a new report.", "says a new ILO report on SCORE.");
    assert!(text.contains(from), "the seed release to edit");
    std::fs::write(&files[1], text.replacen(from, to, 1)).expect("the copy is written");
    let report = run(&files, false).await;
    assert_eq!(report.updated, 1, "{report:?}");
    let updated = Expected::from_listings(&files);
    let score = Criteria::programme("score");
    assert_eq!(
        updated.facets(&score).total,
        before.facets(&score).total + 1,
        "the edit gives SCORE one more release"
    );
    for criteria in precomputed_criteria(&updated) {
        check(&app, &updated, &criteria).await;
    }
    assert_counts_match_base_tables(&db).await;

    // Pruning to the first listing drops the other's releases from every count.
    let first = vec![files[0].clone()];
    let report = run(&first, true).await;
    assert!(report.pruned > 0, "{report:?}");
    let pruned = Expected::from_listings(&first);
    for criteria in precomputed_criteria(&pruned) {
        check(&app, &pruned, &criteria).await;
    }
    // Programmes and offices the pruned releases alone had are gone from the facets.
    let all = check(&app, &pruned, &Criteria::default()).await;
    assert_eq!(all.total, pruned.releases.len() as u64);
    assert_counts_match_base_tables(&db).await;
    drop(app);
}

/// Two programmes (or two offices) in effect fall back to the base tables, where a release
/// with both is counted once: the counts still match the listings.
async fn several_slugs_of_a_kind_count_each_release_once(backend: Backend) {
    let Fixture { app, .. } = &seeded(backend).await;
    // Releases about two programmes at once, so that double counting would show.
    let dir = tempfile::tempdir().expect("temporary folder");
    let mut text = String::from("News and press releases\n\nReleases about two programmes.\n\n");
    for n in 1..=6u64 {
        let day = date(2021, 6, 1) + Days::new(n * 11);
        text.push_str(&format!(
            "  {n}. SCORE meets the Quality Apprenticeship and Lifelong Learning in China project, \
             part {n}\n\n    {day}\n\n    Summary of joint release {n}.\n\n",
            day = day.format("%-d %B %Y"),
        ));
    }
    let listing = dir.path().join("two-programmes.txt");
    std::fs::write(&listing, text).expect("the listing can be written");
    load_listings(&app.db, std::slice::from_ref(&listing)).await;
    let expected = &Expected::from_listings(&[seeds_dir(), listing]);
    let all = expected.facets(&Criteria::default());
    let programmes: Vec<String> = all.programmes.iter().map(|(s, _)| s.clone()).collect();
    let offices: Vec<String> = all.offices.iter().map(|(s, _)| s.clone()).collect();
    let overlapping = expected
        .releases
        .iter()
        .filter(|r| {
            r.programmes.contains("score") && r.programmes.contains("quality-apprenticeship")
        })
        .count();
    assert_eq!(overlapping, 6, "the joint releases have both programmes");
    let pair = vec!["score".to_owned(), "quality-apprenticeship".to_owned()];
    let both = check(
        app,
        expected,
        &Criteria {
            programmes: pair.clone(),
            ..Criteria::default()
        },
    )
    .await;
    let count_of = |slug: &str| {
        all.programmes
            .iter()
            .find(|(s, _)| s == slug)
            .map(|(_, n)| *n)
            .unwrap_or_default()
    };
    assert_eq!(
        both.total,
        count_of("score") + count_of("quality-apprenticeship") - 6,
        "a release with both programmes is counted once"
    );
    check(
        app,
        expected,
        &Criteria {
            programmes: pair,
            offices: vec!["beijing".to_owned()],
            year: Some(2021),
            ..Criteria::default()
        },
    )
    .await;
    for criteria in [
        Criteria {
            programmes: programmes.clone(),
            ..Criteria::default()
        },
        Criteria {
            programmes: programmes[..2].to_vec(),
            ..Criteria::default()
        },
        Criteria {
            offices: offices.clone(),
            ..Criteria::default()
        },
        Criteria {
            programmes: programmes.clone(),
            offices: offices[..1].to_vec(),
            ..Criteria::default()
        },
        Criteria {
            programmes: programmes[..1].to_vec(),
            offices: offices.clone(),
            year: all.years.first().map(|(year, _)| *year),
            ..Criteria::default()
        },
        // The same slug twice is one programme.
        Criteria {
            programmes: vec!["score".to_owned(), "score".to_owned()],
            ..Criteria::default()
        },
    ] {
        check(app, expected, &criteria).await;
    }
}

/// Which statements read the precomputed counts: all three without a filter, with one
/// programme, one office or both, and with dates; the facets whose criteria have two
/// programmes read the base tables instead. The number of statements is unchanged.
async fn facets_read_precomputed_counts_when_exact(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let mut db = database.connect().await;
    load_listings(&db, &[seeds_dir()]).await;
    let statements = record_statements(&mut db);
    let app = spawn_app_with(db).await;
    let expected = Expected::from_listings(&[seeds_dir()]);
    let run = async |criteria: &Criteria| -> Vec<String> {
        statements.lock().expect("statement log").clear();
        check(&app, &expected, criteria).await;
        std::mem::take(&mut *statements.lock().expect("statement log"))
    };
    let precomputed = |sql: &[String]| {
        sql.iter()
            .filter(|statement| statement.contains("_day_count"))
            .count()
    };
    let reads_base = |sql: &[String]| {
        sql.iter()
            .filter(|statement| {
                !statement.contains("_day_count")
                    && (statement.contains("GROUP BY")
                        || statement.contains("group by")
                        || statement.contains("COUNT("))
            })
            .count()
    };

    let unfiltered = run(&Criteria::default()).await;
    assert_eq!(unfiltered.len(), 3, "{unfiltered:#?}");
    assert_eq!(precomputed(&unfiltered), 3, "{unfiltered:#?}");

    let one_each = Criteria {
        programmes: vec!["score".to_owned()],
        offices: vec!["geneva".to_owned()],
        from: Some(date(2016, 3, 1)),
        year: Some(2021),
        ..Criteria::default()
    };
    for criteria in [
        Criteria::programme("score"),
        Criteria::office("geneva"),
        one_each,
    ] {
        let sql = run(&criteria).await;
        let lookups = usize::from(!criteria.programmes.is_empty())
            + usize::from(!criteria.offices.is_empty());
        assert_eq!(sql.len(), lookups + 3, "{criteria:?}: {sql:#?}");
        assert_eq!(precomputed(&sql), 3, "{criteria:?}: {sql:#?}");
        assert_eq!(reads_base(&sql), 0, "{criteria:?}: {sql:#?}");
    }
    let pair = run(&Criteria {
        programmes: vec!["score".to_owned()],
        offices: vec!["geneva".to_owned()],
        ..Criteria::default()
    })
    .await;
    assert!(
        pair.iter()
            .any(|statement| statement.contains("release_pair_day_count")),
        "{pair:#?}"
    );

    // Two programmes: the days and the offices count the base tables; the programmes facet,
    // which leaves out the programmes, still reads the precomputed counts.
    let two = run(&Criteria {
        programmes: vec!["score".to_owned(), "quality-apprenticeship".to_owned()],
        ..Criteria::default()
    })
    .await;
    assert_eq!(two.len(), 4, "{two:#?}");
    assert_eq!(precomputed(&two), 1, "{two:#?}");
    assert_eq!(reads_base(&two), 2, "{two:#?}");
    drop(app);
}

both_backends!(
    unfiltered_facets_count_the_whole_archive,
    each_facet_ignores_its_own_dimension,
    combined_filters_and_empty_buckets,
    facets_are_ordered,
    bad_filters_are_bad_user_input,
    facets_run_a_fixed_number_of_statements,
    precomputed_counts_follow_updates_and_prunes,
    several_slugs_of_a_kind_count_each_release_once,
    facets_read_precomputed_counts_when_exact,
);
