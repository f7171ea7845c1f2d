//! What the listings say the server should serve, worked out without it: the releases parsed
//! and tagged as ingest does, with the slugs the loader gave them.

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::NaiveDate;
use ingest::tag::{ReleaseTags, Tag};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::{prepare_listings, stored_slugs};

/// A release as the listings say it should be served.
#[derive(Debug, Clone)]
pub struct ExpectedRelease {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub published_on: NaiveDate,
    pub summary: Option<String>,
    pub image_credit: Option<String>,
    /// Programme slugs.
    pub programmes: BTreeSet<String>,
    /// Office slugs, the publishing office included.
    pub offices: BTreeSet<String>,
}

/// The releases of `listings` (files or folders, loaded into `db`), in the order of the
/// listings. Slugs are allocated by the loader, so they are read from the `release` table.
pub async fn expected_releases(
    db: &DatabaseConnection,
    listings: &[PathBuf],
) -> Vec<ExpectedRelease> {
    let input = prepare_listings(listings);
    let slugs = stored_slugs(db).await;
    input
        .releases
        .into_iter()
        .map(|prepared| {
            let (programmes, offices) = tag_slugs(prepared.tags);
            ExpectedRelease {
                id: prepared.id,
                slug: slugs
                    .get(&prepared.id)
                    .cloned()
                    .expect("every listed release is stored"),
                title: prepared.release.title,
                published_on: prepared.release.published_on,
                summary: prepared.release.summary,
                image_credit: prepared.release.image_credit,
                programmes,
                offices,
            }
        })
        .collect()
}

/// The programme slugs and the office slugs of a release's tags.
pub fn tag_slugs(tags: ReleaseTags) -> (BTreeSet<String>, BTreeSet<String>) {
    let slugs = |tags: Vec<Tag>| tags.into_iter().map(|tag| tag.slug).collect();
    (slugs(tags.programmes), slugs(tags.offices))
}

/// `releases` in the order lists serve them by default: newest first, by date, then by id,
/// both descending.
pub fn newest_first(mut releases: Vec<ExpectedRelease>) -> Vec<ExpectedRelease> {
    releases.sort_by_key(|r| std::cmp::Reverse((r.published_on, r.id)));
    releases
}
