//! The newest releases matching some criteria, each with its programmes and offices: what a
//! feed, a programme's page and an office's page list. The same page the API's `releases`
//! reads: one statement, or with a search, the search index's page and its releases by id.

use model::entity::{office, programme, release};

use crate::store::criteria::{Criteria, Scope};
use crate::store::page::{Direction, ListOrder, PageRequest};
use crate::store::tags::TagSelection;
use crate::store::{Store, StoreError};

/// A release as documents list it.
#[derive(Debug, Clone)]
pub struct Listed {
    pub release: release::Model,
    pub programmes: Vec<programme::Model>,
    pub offices: Vec<office::Model>,
}

/// At most `count` releases matching `criteria`, newest first (by publication date, then id).
pub async fn newest(
    store: &Store,
    criteria: &Criteria,
    count: u64,
) -> Result<Vec<Listed>, StoreError> {
    let dialect = store.dialect()?;
    let selection = criteria.selection(dialect, Scope::Archive);
    let page = PageRequest {
        direction: Direction::Forward,
        size: count,
        after: None,
        before: None,
    };
    let tags = TagSelection {
        programmes: true,
        offices: true,
    };
    // A searched feed reads the search index when the store has one, as the API's lists do.
    let searched = store
        .searched_page(
            criteria,
            Scope::Archive,
            ListOrder::NewestFirst,
            &page,
            tags,
            false,
        )
        .await?;
    let mut rows = match searched {
        Some(searched) => searched.rows,
        None => {
            store
                .page(
                    &selection,
                    ListOrder::NewestFirst,
                    criteria.search.as_deref(),
                    &page,
                    tags,
                )
                .await?
        }
    };
    // The page reads one row more than asked, to tell whether more follow.
    rows.truncate(usize::try_from(count).unwrap_or(usize::MAX));
    let unread: Vec<_> = rows
        .iter()
        .filter(|row| row.tags.programmes.is_none() || row.tags.offices.is_none())
        .map(|row| row.release.id)
        .collect();
    // Embedded tags are only missing when their JSON could not be read: load those again.
    let (mut programmes, mut offices) = if unread.is_empty() {
        Default::default()
    } else {
        (
            store.programmes_of_releases(&unread).await?,
            store.offices_of_releases(&unread).await?,
        )
    };
    Ok(rows
        .into_iter()
        .map(|row| {
            let id = row.release.id;
            Listed {
                programmes: row
                    .tags
                    .programmes
                    .or_else(|| programmes.remove(&id))
                    .unwrap_or_default(),
                offices: row
                    .tags
                    .offices
                    .or_else(|| offices.remove(&id))
                    .unwrap_or_default(),
                release: row.release,
            }
        })
        .collect())
}
