//! Ingest against real databases (PostgreSQL and SQLite): first load, idempotent reload, updates,
//! pruning, all-or-nothing on bad input, and concurrent runs.

use std::path::{Path, PathBuf};

use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};

use ingest::catalogue::Catalogue;
use ingest::prepare::{PreparedInput, PreparedRelease};
use ingest::tag::Tag;
use ingest::{IngestError, LoadOptions, LoadReport};
use integration_tests::{Backend, TestDatabase, both_backends, catalogue_path, seed_listings};
use model::entity::{
    ingest_run, office, programme, release, release_day_count, release_office, release_programme,
    release_tag_day_count,
};

async fn ingest(
    db: &DatabaseConnection,
    paths: &[PathBuf],
    prune: bool,
) -> Result<LoadReport, IngestError> {
    ingest::ingest_paths(
        db,
        &catalogue_path(),
        paths,
        LoadOptions { prune },
        &ingest::NoProgress,
    )
    .await
}

fn report(releases: u64, inserted: u64, updated: u64, unchanged: u64, pruned: u64) -> LoadReport {
    LoadReport {
        releases,
        inserted,
        updated,
        unchanged,
        pruned,
    }
}

/// Everything a reader could see, in a stable order, to compare before and after.
async fn snapshot(
    db: &DatabaseConnection,
) -> (
    Vec<release::Model>,
    Vec<release_programme::Model>,
    Vec<release_office::Model>,
    u64,
) {
    let releases = release::Entity::find()
        .order_by_asc(release::Column::Id)
        .all(db)
        .await
        .unwrap_or_default();
    let programmes = release_programme::Entity::find()
        .order_by_asc(release_programme::Column::ReleaseId)
        .order_by_asc(release_programme::Column::ProgrammeId)
        .all(db)
        .await
        .unwrap_or_default();
    let offices = release_office::Entity::find()
        .order_by_asc(release_office::Column::ReleaseId)
        .order_by_asc(release_office::Column::OfficeId)
        .all(db)
        .await
        .unwrap_or_default();
    let runs = ingest_run::Entity::find()
        .count(db)
        .await
        .unwrap_or_default();
    (releases, programmes, offices, runs)
}

/// A copy of the seed listings in a temporary folder, for tests that edit them.
fn copy_seeds() -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let copies = seed_listings()
        .iter()
        .map(|path| {
            let copy = dir.path().join(path.file_name().unwrap_or_default());
            std::fs::copy(path, &copy).unwrap_or_else(|e| panic!("copy {}: {e}", path.display()));
            copy
        })
        .collect();
    (dir, copies)
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).expect("write");
}

async fn first_load_stores_every_seed_release(backend: Backend) {
    let test_db = TestDatabase::new(backend).await;
    let db = test_db.connect().await;
    let outcome = ingest(&db, &seed_listings(), false).await.unwrap();
    assert_eq!(outcome, report(40, 40, 0, 0, 0));
    assert_eq!(
        outcome.to_string(),
        "40 releases: 40 inserted, 0 updated, 0 unchanged"
    );

    assert_eq!(
        release::Entity::find().count(&db).await.unwrap_or_default(),
        40
    );
    let catalogue = Catalogue::load(&catalogue_path()).unwrap();
    assert_eq!(
        office::Entity::find().count(&db).await.unwrap_or_default(),
        catalogue.offices.len() as u64
    );
    assert_eq!(
        programme::Entity::find()
            .count(&db)
            .await
            .unwrap_or_default(),
        catalogue.programmes.len() as u64
    );

    // One release checked end to end: fields, slug, source and explained tags.
    let score = release::Entity::find()
        .filter(release::Column::Slug.eq("score-pilot-experience-sharing-conference"))
        .one(&db)
        .await
        .unwrap_or_default()
        .expect("SCORE conference release missing");
    assert_eq!(score.title, "SCORE Pilot Experience Sharing Conference");
    assert_eq!(score.published_on.to_string(), "2021-06-24");
    assert_eq!(
        score.source_file,
        "ilo-beijing-press-releases-2020-2021.txt"
    );
    assert_eq!(score.source_line, 6);
    assert!(
        score
            .summary
            .as_deref()
            .is_some_and(|s| s.starts_with("On 24 June 2021 the Sustaining"))
    );
    let tags = release_programme::Entity::find()
        .filter(release_programme::Column::ReleaseId.eq(score.id))
        .all(&db)
        .await
        .unwrap_or_default();
    assert_eq!(tags.len(), 1);
    assert!(
        tags[0].matched_alias.is_some(),
        "every programme tag says which alias matched"
    );
    let offices = release_office::Entity::find()
        .filter(release_office::Column::ReleaseId.eq(score.id))
        .all(&db)
        .await
        .unwrap_or_default();
    assert!(
        offices.iter().any(|o| o.matched_alias.is_none()),
        "the publishing office is tagged"
    );

    // Every release has at least its listing's office.
    let beijing = office::Entity::find()
        .filter(office::Column::Slug.eq("beijing"))
        .one(&db)
        .await
        .unwrap_or_default()
        .expect("beijing office missing");
    let publisher_tags = release_office::Entity::find()
        .filter(release_office::Column::OfficeId.eq(beijing.id))
        .all(&db)
        .await
        .unwrap_or_default();
    let mut tagged: Vec<_> = publisher_tags.iter().map(|t| t.release_id).collect();
    tagged.sort();
    tagged.dedup();
    assert_eq!(tagged.len(), 40);

    let runs = ingest_run::Entity::find()
        .all(&db)
        .await
        .unwrap_or_default();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(
        (run.releases, run.inserted, run.updated, run.unchanged),
        (40, 40, 0, 0)
    );
    assert!(run.finished_at.is_some());
    let files = run.files.as_array().cloned().unwrap_or_default();
    assert_eq!(files.len(), 2);
    assert!(
        files
            .iter()
            .all(|f| f["sha256"].as_str().is_some_and(|h| h.len() == 64))
    );
}

async fn second_load_changes_nothing(backend: Backend) {
    let test_db = TestDatabase::new(backend).await;
    let db = test_db.connect().await;
    ingest(&db, &seed_listings(), false).await.unwrap();
    let (before, before_p, before_o, _) = snapshot(&db).await;
    let outcome = ingest(&db, &seed_listings(), false).await.unwrap();
    assert_eq!(outcome, report(40, 0, 0, 40, 0));
    let (after, after_p, after_o, runs) = snapshot(&db).await;
    assert_eq!(before, after, "rows, slugs and timestamps are untouched");
    assert_eq!((before_p, before_o), (after_p, after_o));
    assert_eq!(runs, 2, "each run is recorded");
}

async fn changed_summary_updates_its_row(backend: Backend) {
    let test_db = TestDatabase::new(backend).await;
    let db = test_db.connect().await;
    let (_dir, files) = copy_seeds();
    ingest(&db, &files, false).await.unwrap();
    let (before, ..) = snapshot(&db).await;

    edit(
        &files[1],
        "says a new report.",
        "says a new ILO report on SCORE.",
    );
    let outcome = ingest(&db, &files, false).await.unwrap();
    assert_eq!(outcome, report(40, 0, 1, 39, 0));

    let (after, ..) = snapshot(&db).await;
    let changed: Vec<_> = before.iter().zip(&after).filter(|(b, a)| b != a).collect();
    assert_eq!(changed.len(), 1);
    let (old, new) = changed[0];
    assert_eq!(
        new.summary
            .as_deref()
            .map(|s| s.ends_with("says a new ILO report on SCORE.")),
        Some(true)
    );
    assert_eq!(
        (&old.slug, old.created_at),
        (&new.slug, new.created_at),
        "slug and creation time survive updates"
    );
    assert!(new.updated_at >= old.updated_at);
    let programmes = release_programme::Entity::find()
        .filter(release_programme::Column::ReleaseId.eq(new.id))
        .all(&db)
        .await
        .unwrap_or_default();
    assert!(
        programmes
            .iter()
            .any(|t| t.matched_alias.as_deref() == Some("SCORE")),
        "tags follow the new text: {programmes:?}"
    );
}

async fn absent_releases_are_kept_unless_pruned(backend: Backend) {
    let test_db = TestDatabase::new(backend).await;
    let db = test_db.connect().await;
    let seeds = seed_listings();
    ingest(&db, &seeds, false).await.unwrap();

    let one_file = vec![seeds[0].clone()];
    let kept = ingest(&db, &one_file, false).await.unwrap();
    assert_eq!(kept, report(20, 0, 0, 20, 0));
    assert_eq!(
        release::Entity::find().count(&db).await.unwrap_or_default(),
        40
    );

    let pruned = ingest(&db, &one_file, true).await.unwrap();
    assert_eq!(pruned, report(20, 0, 0, 20, 20));
    assert_eq!(
        pruned.to_string(),
        "20 releases: 0 inserted, 0 updated, 20 unchanged, 20 pruned"
    );
    assert_eq!(
        release::Entity::find().count(&db).await.unwrap_or_default(),
        20
    );
    let kept: std::collections::HashSet<uuid::Uuid> = release::Entity::find()
        .all(&db)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.id)
        .collect();
    let office_tags = release_office::Entity::find()
        .all(&db)
        .await
        .unwrap_or_default();
    let programme_tags = release_programme::Entity::find()
        .all(&db)
        .await
        .unwrap_or_default();
    assert!(office_tags.len() >= 20);
    assert!(
        office_tags.iter().all(|t| kept.contains(&t.release_id))
            && programme_tags.iter().all(|t| kept.contains(&t.release_id)),
        "tags of pruned releases go with them"
    );
}

async fn one_bad_file_leaves_the_database_untouched(backend: Backend) {
    let test_db = TestDatabase::new(backend).await;
    let db = test_db.connect().await;
    let (dir, files) = copy_seeds();
    ingest(&db, &files, false).await.unwrap();
    let before = snapshot(&db).await;

    // The good file changes and a bad one joins it: neither may be written.
    edit(
        &files[0],
        "Wage recovery in some",
        "Wage recovery in several",
    );
    let bad = dir.path().join("zz-broken.txt");
    std::fs::write(&bad, "News\n\n  1. A title\n\n    31 February 2021\n").unwrap();
    let error = ingest(&db, &[dir.path().to_path_buf()], false)
        .await
        .expect_err("bad input accepted");
    let message = error.to_string();
    assert!(
        message.contains("zz-broken.txt:5"),
        "error names file and line: {message}"
    );
    assert_eq!(snapshot(&db).await, before);
}

async fn failure_mid_load_rolls_back_everything(backend: Backend) {
    let test_db = TestDatabase::new(backend).await;
    let db = test_db.connect().await;
    let catalogue = Catalogue::load(&catalogue_path()).unwrap();
    // Far more releases than one bulk chunk, the last one tagged with a programme the catalogue
    // lacks: the first chunks are written before the failure is found.
    let mut input = PreparedInput::default();
    for n in 0..1_200u32 {
        let title = format!("Synthetic release {n}");
        let published_on = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default()
            + chrono::Days::new(u64::from(n));
        let mut tags = ingest::tag::ReleaseTags {
            programmes: vec![],
            offices: vec![Tag {
                slug: "beijing".into(),
                matched_alias: None,
            }],
        };
        if n == 1_199 {
            tags.programmes.push(Tag {
                slug: "no-such-programme".into(),
                matched_alias: Some("X".into()),
            });
        }
        input.releases.push(PreparedRelease {
            id: model::release_id(published_on, &title),
            release: ingest::parse::ParsedRelease {
                title,
                published_on,
                summary: None,
                image_credit: None,
                line: n as usize + 1,
            },
            tags,
            source_file: "synthetic.txt".into(),
        });
    }
    let error = ingest::load::load(
        &db,
        &catalogue,
        &input,
        LoadOptions::default(),
        &ingest::NoProgress,
    )
    .await
    .expect_err("unknown programme accepted");
    assert!(error.to_string().contains("no-such-programme"), "{error}");
    assert_eq!(snapshot(&db).await, (vec![], vec![], vec![], 0));
    assert_eq!(
        office::Entity::find().count(&db).await.unwrap_or_default(),
        0,
        "even the catalogue rows are rolled back"
    );
}

async fn concurrent_runs_neither_corrupt_nor_duplicate(backend: Backend) {
    let test_db = TestDatabase::new(backend).await;
    let (a, b) = (test_db.connect().await, test_db.connect().await);
    let seeds = seed_listings();
    let (first, second) = tokio::join!(ingest(&a, &seeds, false), ingest(&b, &seeds, false));
    let mut outcomes = [first.unwrap(), second.unwrap()];
    outcomes.sort_by_key(|r| r.inserted);
    assert_eq!(
        outcomes,
        [report(40, 0, 0, 40, 0), report(40, 40, 0, 0, 0)],
        "one run loads, the other finds it done"
    );
    assert_eq!(
        release::Entity::find().count(&a).await.unwrap_or_default(),
        40
    );
    assert_eq!(
        ingest_run::Entity::find()
            .count(&a)
            .await
            .unwrap_or_default(),
        2
    );
}

async fn release_in_two_files_is_one_row(backend: Backend) {
    let test_db = TestDatabase::new(backend).await;
    let db = test_db.connect().await;
    let (dir, files) = copy_seeds();
    let extra = dir.path().join("extra.txt");
    std::fs::write(
        &extra,
        "News\n\n  1. SCORE Pilot Experience Sharing Conference\n\n    24 June 2021\n\n  2. A release only here\n\n    1 July 2021\n",
    ).unwrap();
    let mut all = files.clone();
    all.push(extra);
    let outcome = ingest(&db, &all, false).await.unwrap();
    assert_eq!(outcome, report(41, 41, 0, 0, 0));
    assert_eq!(
        release::Entity::find().count(&db).await.unwrap_or_default(),
        41
    );
}

async fn colliding_titles_get_distinct_slugs(backend: Backend) {
    let test_db = TestDatabase::new(backend).await;
    let db = test_db.connect().await;
    let dir = tempfile::tempdir().unwrap();
    let listing = dir.path().join("same-titles.txt");
    std::fs::write(
        &listing,
        "News\n\n  1. Annual report launched\n\n    2 March 2021\n\n  2. Annual report launched!\n\n    2 March 2021\n\n  3. Annual report launched\n\n    2 March 2020\n\n  4. Annual report: launched\n\n    2 March 2021\n",
    ).unwrap();
    ingest(&db, std::slice::from_ref(&listing), false)
        .await
        .unwrap();
    let slugs = |db: &DatabaseConnection| {
        let db = db.clone();
        async move {
            let mut slugs: Vec<(String, String)> = release::Entity::find()
                .all(&db)
                .await
                .unwrap_or_default()
                .into_iter()
                .map(|r| (r.slug, r.title))
                .collect();
            slugs.sort();
            slugs
        }
    };
    let first = slugs(&db).await;
    let names: Vec<&str> = first.iter().map(|(slug, _)| slug.as_str()).collect();
    assert_eq!(names.len(), 4);
    assert_eq!(
        &names[..3],
        [
            "annual-report-launched",
            "annual-report-launched-2020-03-02",
            "annual-report-launched-2021-03-02"
        ]
    );
    assert!(
        names[3].starts_with("annual-report-launched-2021-03-02-")
            && names[3].len() == "annual-report-launched-2021-03-02-".len() + 8,
        "{names:?}"
    );
    // Slugs are for life: a reload hands out the same ones.
    ingest(&db, &[listing], false).await.unwrap();
    assert_eq!(slugs(&db).await, first);
}

/// The precomputed counts add up to the rows they count: releases per day to the releases,
/// per programme (office) and day to the programme (office) tags, after a load and a prune.
async fn count_tables_sum_to_the_rows(backend: Backend) {
    let test_db = TestDatabase::new(backend).await;
    let db = test_db.connect().await;
    let seeds = seed_listings();
    let check = async |releases: u64| {
        let days = release_day_count::Entity::find().all(&db).await.unwrap();
        let tags = release_tag_day_count::Entity::find()
            .all(&db)
            .await
            .unwrap();
        let sum = |kind: i16| -> u64 {
            tags.iter()
                .filter(|row| row.kind == kind)
                .map(|row| u64::try_from(row.releases).unwrap_or_default())
                .sum()
        };
        assert_eq!(
            days.iter()
                .map(|row| u64::try_from(row.releases).unwrap_or_default())
                .sum::<u64>(),
            releases
        );
        assert_eq!(
            release::Entity::find().count(&db).await.unwrap_or_default(),
            releases
        );
        assert_eq!(
            sum(model::TagKind::Programme.code()),
            release_programme::Entity::find()
                .count(&db)
                .await
                .unwrap_or_default()
        );
        assert_eq!(
            sum(model::TagKind::Office.code()),
            release_office::Entity::find()
                .count(&db)
                .await
                .unwrap_or_default()
        );
        assert!(days.iter().all(|row| row.releases > 0));
        assert!(tags.iter().all(|row| row.releases > 0));
    };
    ingest(&db, &seeds, false).await.unwrap();
    check(40).await;
    ingest(&db, &seeds[..1], true).await.unwrap();
    check(20).await;
}

both_backends!(
    first_load_stores_every_seed_release,
    second_load_changes_nothing,
    changed_summary_updates_its_row,
    absent_releases_are_kept_unless_pruned,
    one_bad_file_leaves_the_database_untouched,
    failure_mid_load_rolls_back_everything,
    concurrent_runs_neither_corrupt_nor_duplicate,
    release_in_two_files_is_one_row,
    colliding_titles_get_distinct_slugs,
    count_tables_sum_to_the_rows,
);
