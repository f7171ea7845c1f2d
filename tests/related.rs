//! `Release.related` end to end, on PostgreSQL and SQLite over the seed listings: never the
//! release itself, `first` respected and bounded, the same answer every time, programmes first,
//! text similarity for releases without one. Expected sets are worked out from the listings with
//! `ingest::prepare` (slugs read with SQL), never taken from the server.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use integration_tests::app::{TestApp, spawn_app};
use integration_tests::{
    Backend, ExpectedRelease, TestDatabase, both_backends, expected_releases, seed_listings,
};

/// A seed release as the listings describe it.
type Seed = ExpectedRelease;

/// A server over the seeds, and the seeds. Fields drop in order: the server stops first.
struct Fixture {
    app: TestApp,
    seeds: Vec<Seed>,
    _database: TestDatabase,
}

impl Fixture {
    async fn new(backend: Backend) -> Fixture {
        let database = TestDatabase::new(backend).await;
        let app = spawn_app(&database).await;
        let seeds = expected_releases(&app.db, &seed_listings()).await;
        Fixture {
            app,
            seeds,
            _database: database,
        }
    }

    fn seed(&self, keep: impl Fn(&Seed) -> bool) -> &Seed {
        self.seeds
            .iter()
            .find(|seed| keep(seed))
            .expect("the seeds hold such a release")
    }

    /// The whole response to `related(first: $first)` of the release `slug`.
    async fn related_response(&self, slug: &str, first: Option<i32>) -> Value {
        let query = match first {
            Some(_) => {
                "query($slug: String!, $first: Int) { release(slug: $slug) { related(first: $first) { slug } } }"
            }
            None => "query($slug: String!) { release(slug: $slug) { related { slug } } }",
        };
        self.app
            .graphql(query, json!({ "slug": slug, "first": first }))
            .await
    }

    /// Slugs of the releases related to `slug`, best first.
    async fn related(&self, slug: &str, first: Option<i32>) -> Vec<String> {
        let body = self.related_response(slug, first).await;
        assert!(body.get("errors").is_none(), "related of {slug}: {body}");
        body["data"]["release"]["related"]
            .as_array()
            .unwrap_or_else(|| panic!("related of {slug} is not a list: {body}"))
            .iter()
            .map(|node| {
                node["slug"]
                    .as_str()
                    .unwrap_or_else(|| panic!("a related release without slug: {body}"))
                    .to_owned()
            })
            .collect()
    }
}

// --------------------------------------------------------------------------------- tests ---

/// For every seed release: not itself, no release twice, at most `first`, and the same list
/// when asked again (and as a prefix of a longer list: ties are broken the same way).
async fn never_itself_within_first_and_deterministic(backend: Backend) {
    let fixture = Fixture::new(backend).await;
    assert!(fixture.seeds.len() > 30, "the seeds hold enough releases");
    let mut answered = 0;
    for seed in &fixture.seeds {
        let twenty = fixture.related(&seed.slug, Some(20)).await;
        assert!(
            !twenty.contains(&seed.slug),
            "{} relates to itself",
            seed.slug
        );
        assert!(twenty.len() <= 20, "{}: {twenty:?}", seed.slug);
        let unique: BTreeSet<&String> = twenty.iter().collect();
        assert_eq!(unique.len(), twenty.len(), "{}: {twenty:?}", seed.slug);
        assert_eq!(
            fixture.related(&seed.slug, Some(20)).await,
            twenty,
            "{}: a second call answers differently",
            seed.slug
        );
        let default = fixture.related(&seed.slug, None).await;
        assert_eq!(default, twenty[..twenty.len().min(5)], "{}", seed.slug);
        let one = fixture.related(&seed.slug, Some(1)).await;
        assert_eq!(one, twenty[..twenty.len().min(1)], "{}", seed.slug);
        answered += usize::from(!twenty.is_empty());
    }
    assert!(
        answered * 10 >= fixture.seeds.len() * 9,
        "most releases have related releases ({answered} of {})",
        fixture.seeds.len()
    );
}

/// `first` outside 1..=20 is a BAD_USER_INPUT error that names the argument.
async fn first_is_bounded(backend: Backend) {
    let fixture = Fixture::new(backend).await;
    let slug = fixture.seeds[0].slug.clone();
    for first in [0, 21, -1, i32::MIN, i32::MAX] {
        let body = fixture.related_response(&slug, Some(first)).await;
        let errors = body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("first: {first} was accepted: {body}"));
        assert!(!errors.is_empty(), "first: {first}: {body}");
        for error in errors {
            assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{body}");
            let message = error["message"].as_str().unwrap_or_default();
            assert!(message.contains("first"), "{message}");
        }
    }
    let twenty = fixture.related(&slug, Some(20)).await;
    assert!((1..=20).contains(&twenty.len()), "{twenty:?}");
}

/// The best related releases of a SCORE release are the other SCORE releases, newest first
/// among equals; a release with SCORE and no summary is no exception.
async fn releases_of_a_programme_relate_to_each_other(backend: Backend) {
    let fixture = Fixture::new(backend).await;
    let score: Vec<&Seed> = fixture
        .seeds
        .iter()
        .filter(|seed| seed.programmes.contains("score"))
        .collect();
    assert!(score.len() >= 4, "the seeds hold several SCORE releases");
    let score_slugs: BTreeSet<&str> = score.iter().map(|seed| seed.slug.as_str()).collect();
    for seed in &score {
        let expected = (score.len() - 1).min(5);
        let related = fixture.related(&seed.slug, Some(5)).await;
        assert!(related.len() >= expected, "{}: {related:?}", seed.slug);
        for slug in &related[..expected] {
            assert!(
                score_slugs.contains(slug.as_str()),
                "{}: {slug} is not a SCORE release, yet ranks among the first {expected}: {related:?}",
                seed.slug
            );
        }
    }
    let without_summary = score
        .iter()
        .find(|seed| seed.summary.is_none())
        .expect("a SCORE release has no summary");
    let related = fixture.related(&without_summary.slug, Some(3)).await;
    assert_eq!(related.len(), 3);
    assert!(
        related
            .iter()
            .all(|slug| score_slugs.contains(slug.as_str())),
        "{related:?}"
    );
}

/// Releases without a programme still get releases like them by text: the two
/// "ILO Director-General … BRICS …" releases of July 2017 rank high for each other (among
/// the other releases about the Director-General and BRICS).
async fn releases_without_programme_relate_by_text(backend: Backend) {
    let fixture = Fixture::new(backend).await;
    let play_role = fixture.seed(|seed| {
        seed.title
            .starts_with("ILO Director-General: BRICS countries play a key role")
    });
    let to_attend = fixture.seed(|seed| {
        seed.title
            .starts_with("ILO Director-General to attend the BRICS")
    });
    for seed in [play_role, to_attend] {
        assert!(seed.programmes.is_empty(), "{} has no programme", seed.slug);
    }
    for (seed, other) in [(play_role, to_attend), (to_attend, play_role)] {
        let related = fixture.related(&seed.slug, Some(3)).await;
        assert!(
            related.contains(&other.slug),
            "{} is not among the first related releases of {}: {related:?}",
            other.slug,
            seed.slug
        );
    }

    // A release with neither programme nor summary still finds releases by its title.
    if let Some(bare) = fixture
        .seeds
        .iter()
        .find(|seed| seed.programmes.is_empty() && seed.summary.is_none())
    {
        let related = fixture.related(&bare.slug, Some(5)).await;
        assert!(!related.contains(&bare.slug));
    }
}

both_backends!(
    never_itself_within_first_and_deterministic,
    first_is_bounded,
    releases_of_a_programme_relate_to_each_other,
    releases_without_programme_relate_by_text,
);
