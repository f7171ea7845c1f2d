//! The SQL the store sends, pinned on both backends (`src/store/snapshots/`). A change to a
//! statement shows here as a diff to review; `INSTA_UPDATE=always cargo test -p api` rewrites
//! the snapshots after an intended change. What each statement must keep is said beside it.

use std::sync::Arc;

use chrono::NaiveDate;
use uuid::Uuid;

use model::TagKind;

use crate::store::Dialect;
use crate::store::criteria::{Criteria, Scope};
use crate::store::facets::tag_counts_statement;
use crate::store::page::{Cursor, Direction, ListOrder, PageRequest, Position, page_query};
use crate::store::related::{OwnTags, own_tags_query, related_statement};
use crate::store::search::SearchQuery;
use crate::store::tags::TagSelection;

const BOTH: [Dialect; 2] = [Dialect::Postgres, Dialect::Sqlite];

fn day(month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(2021, month, day)
}

fn cursor() -> Cursor {
    Cursor {
        published_on: day(6, 24).unwrap(),
        id: Uuid::nil(),
    }
}

/// Seven releases after `after`, forward.
fn seven_after(after: Position) -> PageRequest {
    PageRequest {
        direction: Direction::Forward,
        size: 7,
        after: Some(after),
        before: None,
    }
}

fn search(text: &str) -> Arc<SearchQuery> {
    Arc::new(SearchQuery::parse(text).unwrap())
}

fn page_sql(dialect: Dialect, criteria: &Criteria, scope: Scope, tags: TagSelection) -> String {
    let selection = criteria.selection(dialect, scope);
    page_query(
        dialect,
        &selection,
        ListOrder::NewestFirst,
        None,
        &seven_after(Position::Dated(cursor())),
        tags,
    )
    .unwrap()
    .to_string()
}

/// A page deep in the archive starts at its cursor in the `(published_on, id)` index: on
/// PostgreSQL the row comparison is the index bound (and the row limit a literal, so the
/// statement keeps one plan); on SQLite the plain `published_on <= cursor` bound is what lets it
/// seek instead of filtering.
#[test]
fn archive_page_after_a_cursor() {
    let page = |dialect| {
        page_sql(
            dialect,
            &Criteria::default(),
            Scope::Archive,
            TagSelection::default(),
        )
    };
    let sql = page(Dialect::Postgres);
    assert!(
        sql.contains(r#"("release"."published_on", "release"."id") < ('2021-06-24', "#),
        "{sql}"
    );
    assert!(sql.ends_with(" LIMIT 8"), "{sql}");
    insta::assert_snapshot!(sql);
    let sql = page(Dialect::Sqlite);
    assert!(
        sql.contains(r#""release"."published_on" <= '2021-06-24' AND"#),
        "{sql}"
    );
}

/// A list that must carry one programme is read from that programme's rows, in their order,
/// from the cursor on, the year bounding the index scan; it carries its tags as JSON columns.
#[test]
fn one_programme_in_a_year_walks_the_tags_index() {
    let year = Criteria {
        from: day(1, 1),
        to: day(12, 31),
        programme_ids: Some(vec![3]),
        ..Criteria::default()
    };
    let tags = TagSelection {
        programmes: true,
        offices: true,
    };
    for dialect in BOTH {
        let sql = page_sql(dialect, &year, Scope::Archive, tags);
        assert!(!sql.contains("IN (SELECT"), "{sql}");
        insta::assert_snapshot!(format!("one_programme_in_a_year_{dialect:?}"), sql);
    }
}

/// An office's page narrowed to a programme: the office's rows lead, the programme is a
/// semi-join. Two programmes, or a search, filter `release` instead of joining a tag.
#[test]
fn lists_that_cannot_be_anchored_filter_release() {
    let year = Criteria {
        from: day(1, 1),
        to: day(12, 31),
        programme_ids: Some(vec![3]),
        ..Criteria::default()
    };
    let office_page = page_sql(
        Dialect::Postgres,
        &year,
        Scope::Tag(TagKind::Office, 5),
        TagSelection::default(),
    );
    assert!(
        office_page.contains(r#"INNER JOIN "release_office""#),
        "{office_page}"
    );
    insta::assert_snapshot!("office_page_with_a_programme", office_page);
    let two = Criteria {
        programme_ids: Some(vec![3, 4]),
        ..year.clone()
    };
    let searched = Criteria {
        search: Some(search("herders")),
        ..year
    };
    for (name, criteria) in [("two_programmes", two), ("searched_programme", searched)] {
        let sql = page_sql(
            Dialect::Postgres,
            &criteria,
            Scope::Archive,
            TagSelection::default(),
        );
        assert!(!sql.contains("JOIN"), "{sql}");
        insta::assert_snapshot!(name, sql);
    }
}

/// A ranked page after a cursor: one rank expression in SELECT, WHERE and ORDER BY; on
/// PostgreSQL the condition is on the bare `search_vector`, which the GIN index serves, and the
/// word being typed is a `simple` prefix beside the rest of its group.
#[test]
fn ranked_page_after_a_cursor() {
    let search = search("social security -china or apprentice");
    let criteria = Criteria {
        search: Some(search.clone()),
        ..Criteria::default()
    };
    let page = seven_after(Position::Ranked {
        rank: 0.5,
        at: cursor(),
    });
    for dialect in BOTH {
        let selection = criteria.selection(dialect, Scope::Archive);
        let sql = page_query(
            dialect,
            &selection,
            ListOrder::Relevance,
            Some(&search),
            &page,
            TagSelection::default(),
        )
        .unwrap()
        .to_string();
        assert!(sql.contains(r#"AS "search_rank""#), "{sql}");
        insta::assert_snapshot!(format!("ranked_page_{dialect:?}"), sql);
    }
}

/// The typed word with the rest of its group: `whole || (rest && 'prefix':*)`.
#[test]
fn search_as_you_type() {
    let criteria = Criteria {
        search: Some(search("health or quality appren")),
        ..Criteria::default()
    };
    for dialect in BOTH {
        let sql = page_sql(dialect, &criteria, Scope::Archive, TagSelection::default());
        insta::assert_snapshot!(format!("search_as_you_type_{dialect:?}"), sql);
    }
}

/// Facets per programme: from the count tables when they are exact (alone, or under one
/// office from the pair counts), else grouped over the tag table with the criteria as a
/// semi-join; joined to the catalogue once per bucket.
#[test]
fn programme_facet_counts() {
    let year = Criteria {
        from: day(1, 1),
        to: day(12, 31),
        ..Criteria::default()
    };
    let under_office = Criteria {
        office_ids: Some(vec![5]),
        ..year.clone()
    };
    let searched = Criteria {
        search: Some(search("herders")),
        ..year.clone()
    };
    for (name, criteria) in [
        ("programme_counts_precomputed", year),
        ("programme_counts_under_one_office", under_office),
        ("programme_counts_searched", searched),
    ] {
        for dialect in BOTH {
            let sql = tag_counts_statement(dialect, TagKind::Programme, &criteria).to_string();
            insta::assert_snapshot!(format!("{name}_{dialect:?}"), sql);
        }
    }
}

/// `Release.related`: the release's tags, then candidates from each tag's newest rows and from
/// the title's words, scored in one statement.
#[test]
fn related_releases() {
    let id = Uuid::nil();
    let own = own_tags_query(id);
    insta::assert_snapshot!(
        "related_own_tags",
        Dialect::Postgres.backend().build(&own).to_string()
    );
    let tags = OwnTags {
        programmes: vec![3],
        offices: vec![5, 6],
    };
    let words = [
        "herders".to_owned(),
        "mongolia".to_owned(),
        "safety".to_owned(),
    ];
    for dialect in BOTH {
        let statement = related_statement(dialect, id, &tags, &words, 5).unwrap();
        insta::assert_snapshot!(format!("related_{dialect:?}"), statement.to_string());
    }
}
