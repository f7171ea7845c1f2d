//! Batch loading for fields resolved once per object of a list (a release's programmes, a
//! programme's release count, …). Lists prefetch what their items will ask for in one query
//! per kind of key; the items then read the request's cache, so a page of 100 releases costs
//! the same few statements as one, however the executor interleaves them.

use std::collections::HashMap;
use std::hash::Hash;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::{BatchRequest, Context, Request};
use chrono::NaiveDate;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use model::entity::{office, programme, programme_office, release_office, release_programme};

use crate::error::ApiError;
use crate::schema::data_loader;

/// The batch loader of one request; the key type says what is loaded.
pub type ArchiveDataLoader = DataLoader<ArchiveLoader, HashMapCache>;

/// A loader whose cache lives as long as one request, so no response mixes in stale data.
pub fn request_data_loader(db: DatabaseConnection) -> ArchiveDataLoader {
    DataLoader::with_cache(ArchiveLoader { db }, tokio::spawn, HashMapCache::default())
}

/// `batch` with a loader of its own in each request's data. Given here, by the caller of the
/// schema, rather than by a schema extension: any extension makes the executor wrap every
/// field of every response in the extension chain.
pub fn with_request_loaders(batch: BatchRequest, db: &DatabaseConnection) -> BatchRequest {
    let with_loader = |request: Request| request.data(request_data_loader(db.clone()));
    match batch {
        BatchRequest::Single(request) => BatchRequest::Single(with_loader(request)),
        BatchRequest::Batch(requests) => {
            BatchRequest::Batch(requests.into_iter().map(with_loader).collect())
        }
    }
}

/// Loads `keys` in one batch ahead of the resolvers that will each ask for one of them, when
/// `selected` says they will; those resolvers then find their value in the request's cache.
/// (Left to itself, the loader batches whatever arrives within a short delay, which a busy
/// server can split into several queries.)
pub async fn prefetch<K>(
    ctx: &Context<'_>,
    selected: bool,
    keys: impl IntoIterator<Item = K>,
) -> Result<(), ApiError>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    ArchiveLoader: Loader<K, Error = DbErr>,
{
    if selected {
        data_loader(ctx)?.load_many(keys).await?;
    }
    Ok(())
}

#[derive(Debug)]
pub struct ArchiveLoader {
    db: DatabaseConnection,
}

/// The programmes a release concerns, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProgrammesOfRelease(pub Uuid);

/// The offices a release concerns, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OfficesOfRelease(pub Uuid);

/// The offices that run a programme, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OfficesOfProgramme(pub i32);

/// The programmes an office runs, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProgrammesOfOffice(pub i32);

/// How many releases concern a programme, and when the first and last were published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProgrammeReleaseStats(pub i32);

/// How many releases concern an office, and when the first and last were published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OfficeReleaseStats(pub i32);

/// Aggregates over the releases tagged with one programme or office.
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

/// Every key gets a value, zero for programmes or offices without releases: a key missing
/// from the answer would not be cached, and its resolver would query again.
fn stats_by_key<K: Hash + Eq + Copy>(
    keys: &[K],
    rows: Vec<StatsRow>,
    key_of: impl Fn(i32) -> K,
) -> HashMap<K, ReleaseStats> {
    let mut stats: HashMap<K, ReleaseStats> = keys
        .iter()
        .map(|&key| (key, ReleaseStats::default()))
        .collect();
    for row in rows {
        stats.insert(
            key_of(row.owner_id),
            ReleaseStats {
                release_count: row.release_count,
                first_published_on: row.first_published_on,
                last_published_on: row.last_published_on,
            },
        );
    }
    stats
}

impl Loader<ProgrammesOfRelease> for ArchiveLoader {
    type Value = Vec<programme::Model>;
    type Error = DbErr;

    async fn load(
        &self,
        keys: &[ProgrammesOfRelease],
    ) -> Result<HashMap<ProgrammesOfRelease, Self::Value>, DbErr> {
        let rows = release_programme::Entity::find()
            .filter(release_programme::Column::ReleaseId.is_in(keys.iter().map(|key| key.0)))
            .find_also_related(programme::Entity)
            .order_by_asc(programme::Column::Name)
            .all(&self.db)
            .await?;
        Ok(group(keys, rows, |tag| ProgrammesOfRelease(tag.release_id)))
    }
}

impl Loader<OfficesOfRelease> for ArchiveLoader {
    type Value = Vec<office::Model>;
    type Error = DbErr;

    async fn load(
        &self,
        keys: &[OfficesOfRelease],
    ) -> Result<HashMap<OfficesOfRelease, Self::Value>, DbErr> {
        let rows = release_office::Entity::find()
            .filter(release_office::Column::ReleaseId.is_in(keys.iter().map(|key| key.0)))
            .find_also_related(office::Entity)
            .order_by_asc(office::Column::Name)
            .all(&self.db)
            .await?;
        Ok(group(keys, rows, |tag| OfficesOfRelease(tag.release_id)))
    }
}

impl Loader<OfficesOfProgramme> for ArchiveLoader {
    type Value = Vec<office::Model>;
    type Error = DbErr;

    async fn load(
        &self,
        keys: &[OfficesOfProgramme],
    ) -> Result<HashMap<OfficesOfProgramme, Self::Value>, DbErr> {
        let rows = programme_office::Entity::find()
            .filter(programme_office::Column::ProgrammeId.is_in(keys.iter().map(|key| key.0)))
            .find_also_related(office::Entity)
            .order_by_asc(office::Column::Name)
            .all(&self.db)
            .await?;
        Ok(group(keys, rows, |link| {
            OfficesOfProgramme(link.programme_id)
        }))
    }
}

impl Loader<ProgrammesOfOffice> for ArchiveLoader {
    type Value = Vec<programme::Model>;
    type Error = DbErr;

    async fn load(
        &self,
        keys: &[ProgrammesOfOffice],
    ) -> Result<HashMap<ProgrammesOfOffice, Self::Value>, DbErr> {
        let rows = programme_office::Entity::find()
            .filter(programme_office::Column::OfficeId.is_in(keys.iter().map(|key| key.0)))
            .find_also_related(programme::Entity)
            .order_by_asc(programme::Column::Name)
            .all(&self.db)
            .await?;
        Ok(group(keys, rows, |link| ProgrammesOfOffice(link.office_id)))
    }
}

impl Loader<ProgrammeReleaseStats> for ArchiveLoader {
    type Value = ReleaseStats;
    type Error = DbErr;

    async fn load(
        &self,
        keys: &[ProgrammeReleaseStats],
    ) -> Result<HashMap<ProgrammeReleaseStats, ReleaseStats>, DbErr> {
        use release_programme::Column;
        let stats = release_programme::Entity::find()
            .select_only()
            .column_as(Column::ProgrammeId, "owner_id")
            .column_as(Column::ReleaseId.count(), "release_count")
            .column_as(Column::PublishedOn.min(), "first_published_on")
            .column_as(Column::PublishedOn.max(), "last_published_on")
            .filter(Column::ProgrammeId.is_in(keys.iter().map(|key| key.0)))
            .group_by(Column::ProgrammeId)
            .into_model::<StatsRow>()
            .all(&self.db)
            .await?;
        Ok(stats_by_key(keys, stats, ProgrammeReleaseStats))
    }
}

impl Loader<OfficeReleaseStats> for ArchiveLoader {
    type Value = ReleaseStats;
    type Error = DbErr;

    async fn load(
        &self,
        keys: &[OfficeReleaseStats],
    ) -> Result<HashMap<OfficeReleaseStats, ReleaseStats>, DbErr> {
        use release_office::Column;
        let stats = release_office::Entity::find()
            .select_only()
            .column_as(Column::OfficeId, "owner_id")
            .column_as(Column::ReleaseId.count(), "release_count")
            .column_as(Column::PublishedOn.min(), "first_published_on")
            .column_as(Column::PublishedOn.max(), "last_published_on")
            .filter(Column::OfficeId.is_in(keys.iter().map(|key| key.0)))
            .group_by(Column::OfficeId)
            .into_model::<StatsRow>()
            .all(&self.db)
            .await?;
        Ok(stats_by_key(keys, stats, OfficeReleaseStats))
    }
}

/// Collects joined rows `(link, target)` into the targets of each key, keeping the query's
/// order; keys without rows get an empty list (see `stats_by_key` for why). A link without its
/// target cannot happen under the foreign keys, and is skipped.
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
