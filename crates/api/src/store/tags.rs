//! A release's programmes and offices. Read in the very statement that reads the release (each
//! row carries its tag lists as JSON columns, see [`TagSelection::add_columns`]), or, for
//! whatever that did not cover, batch-loaded for many releases, programmes or offices at once.

use std::collections::HashMap;
use std::hash::Hash;

use chrono::NaiveDate;
use sea_orm::sea_query::{ExprTrait, Query};
use sea_orm::{
    ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QueryResult, QuerySelect,
    Select,
};
use uuid::Uuid;

use model::TagKind;
use model::entity::{office, programme, programme_office, release_office, release_programme};

use crate::store::tag_table::TagTable;
use crate::store::{Dialect, Store, StoreError};

/// Which tag lists are read with the releases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TagSelection {
    pub programmes: bool,
    pub offices: bool,
}

impl TagSelection {
    /// `query` with a JSON column per selected tag list of each release, by name.
    pub fn add_columns<E: EntityTrait>(self, query: Select<E>, dialect: Dialect) -> Select<E> {
        let mut query = query;
        for kind in TagKind::ALL {
            if self.selects(kind) {
                query = query.expr_as(dialect.tag_list(kind), column_of(kind));
            }
        }
        query
    }

    fn selects(self, kind: TagKind) -> bool {
        match kind {
            TagKind::Programme => self.programmes,
            TagKind::Office => self.offices,
        }
    }
}

fn column_of(kind: TagKind) -> &'static str {
    match kind {
        TagKind::Programme => "embedded_programmes",
        TagKind::Office => "embedded_offices",
    }
}

/// The tag lists read with one release; `None` for a list that was not selected, or could not
/// be read (its resolver then loads it: never wrong, only slower).
#[derive(Debug, Clone, Default)]
pub struct EmbeddedTags {
    pub programmes: Option<Vec<programme::Model>>,
    pub offices: Option<Vec<office::Model>>,
}

impl EmbeddedTags {
    /// The tag columns of `row` that `selection` added.
    pub fn read(row: &QueryResult, selection: TagSelection) -> EmbeddedTags {
        EmbeddedTags {
            programmes: selection
                .programmes
                .then(|| decode_column(row, TagKind::Programme))
                .flatten(),
            offices: selection
                .offices
                .then(|| decode_column(row, TagKind::Office))
                .flatten(),
        }
    }
}

/// The JSON array in `kind`'s column of `row`, as models; `None` (and a warning) when it
/// cannot be read.
fn decode_column<M: serde::de::DeserializeOwned>(
    row: &QueryResult,
    kind: TagKind,
) -> Option<Vec<M>> {
    let name = column_of(kind);
    let decoded = row
        .try_get::<serde_json::Value>("", name)
        .map_err(|error| error.to_string())
        .and_then(|value| {
            serde_json::from_value::<Vec<M>>(value).map_err(|error| error.to_string())
        });
    match decoded {
        Ok(list) => Some(list),
        Err(error) => {
            tracing::warn!(%error, column = name, "embedded tags unreadable");
            None
        }
    }
}

/// How many releases carry one programme or office, and when the first and last were published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReleaseStats {
    pub release_count: i64,
    pub first_published_on: Option<NaiveDate>,
    pub last_published_on: Option<NaiveDate>,
}

#[derive(Debug, FromQueryResult)]
struct StatsRow {
    owner_id: i32,
    release_count: i64,
    first_published_on: Option<NaiveDate>,
    last_published_on: Option<NaiveDate>,
}

impl Store {
    /// The programmes of each of `releases`, by name; every release gets a list, empty when it
    /// has none.
    pub async fn programmes_of_releases(
        &self,
        releases: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<programme::Model>>, StoreError> {
        let rows = release_programme::Entity::find()
            .filter(release_programme::Column::ReleaseId.is_in(releases.iter().copied()))
            .find_also_related(programme::Entity)
            .order_by_asc(programme::Column::Name)
            .all(self.db())
            .await?;
        Ok(group(releases, rows, |tag| tag.release_id))
    }

    /// The offices of each of `releases`, by name.
    pub async fn offices_of_releases(
        &self,
        releases: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<office::Model>>, StoreError> {
        let rows = release_office::Entity::find()
            .filter(release_office::Column::ReleaseId.is_in(releases.iter().copied()))
            .find_also_related(office::Entity)
            .order_by_asc(office::Column::Name)
            .all(self.db())
            .await?;
        Ok(group(releases, rows, |tag| tag.release_id))
    }

    /// The offices that run each of `programmes`, by name.
    pub async fn offices_of_programmes(
        &self,
        programmes: &[i32],
    ) -> Result<HashMap<i32, Vec<office::Model>>, StoreError> {
        let rows = programme_office::Entity::find()
            .filter(programme_office::Column::ProgrammeId.is_in(programmes.iter().copied()))
            .find_also_related(office::Entity)
            .order_by_asc(office::Column::Name)
            .all(self.db())
            .await?;
        Ok(group(programmes, rows, |link| link.programme_id))
    }

    /// The programmes each of `offices` runs, by name.
    pub async fn programmes_of_offices(
        &self,
        offices: &[i32],
    ) -> Result<HashMap<i32, Vec<programme::Model>>, StoreError> {
        let rows = programme_office::Entity::find()
            .filter(programme_office::Column::OfficeId.is_in(offices.iter().copied()))
            .find_also_related(programme::Entity)
            .order_by_asc(programme::Column::Name)
            .all(self.db())
            .await?;
        Ok(group(offices, rows, |link| link.office_id))
    }

    /// Release statistics of each of the programmes or offices `ids` of `kind`; zero for those
    /// without releases.
    pub async fn release_stats(
        &self,
        kind: TagKind,
        ids: &[i32],
    ) -> Result<HashMap<i32, ReleaseStats>, StoreError> {
        let table = TagTable::of(kind);
        let query = Query::select()
            .expr_as(table.tag_col(), "owner_id")
            .expr_as(table.release_col().count(), "release_count")
            .expr_as(table.date_col().min(), "first_published_on")
            .expr_as(table.date_col().max(), "last_published_on")
            .from(table.table.clone())
            .and_where(table.tag_col().is_in(ids.iter().copied()))
            .group_by_col((table.table.clone(), table.tag_id.clone()))
            .take();
        let rows = StatsRow::find_by_statement(self.pool().get_database_backend().build(&query))
            .all(self.db())
            .await?;
        let mut stats: HashMap<i32, ReleaseStats> = ids
            .iter()
            .map(|&id| (id, ReleaseStats::default()))
            .collect();
        for row in rows {
            stats.insert(
                row.owner_id,
                ReleaseStats {
                    release_count: row.release_count,
                    first_published_on: row.first_published_on,
                    last_published_on: row.last_published_on,
                },
            );
        }
        Ok(stats)
    }
}

/// Collects joined rows `(link, target)` into the targets of each key, keeping the query's
/// order; every key gets a list (a key missing from a loader's answer is not cached, and its
/// resolver would query again). A link without its target cannot happen under the foreign
/// keys, and is skipped.
fn group<K, L, T>(
    keys: &[K],
    rows: Vec<(L, Option<T>)>,
    key_of: impl Fn(&L) -> K,
) -> HashMap<K, Vec<T>>
where
    K: Hash + Eq + Clone,
{
    let mut grouped: HashMap<K, Vec<T>> =
        keys.iter().map(|key| (key.clone(), Vec::new())).collect();
    for (link, target) in rows {
        if let Some(target) = target {
            grouped.entry(key_of(&link)).or_default().push(target);
        }
    }
    grouped
}
