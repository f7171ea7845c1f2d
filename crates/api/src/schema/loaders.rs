//! Batch loading for fields resolved once per object of a list (a release's programmes, a
//! programme's release count, …). Lists prefetch what their items will ask for in one query
//! per kind of key, or prime the loader with what their own statement read (`prime`); the
//! items then read the request's cache, so a page of 100 releases costs the same few
//! statements as one, however the executor interleaves them.

use std::collections::HashMap;
use std::hash::Hash;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::{BatchRequest, Context, Request};
use uuid::Uuid;

use model::TagKind;
use model::entity::{office, programme};

use crate::error::ApiError;
use crate::store::tags::{EmbeddedTags, ReleaseStats};
use crate::store::{Store, StoreError};

/// The batch loader of one request; the key type says what is loaded.
pub type ArchiveDataLoader = DataLoader<ArchiveLoader, HashMapCache>;

/// A loader whose cache lives as long as one request, so no response mixes in stale data.
pub fn request_data_loader(store: Store) -> ArchiveDataLoader {
    DataLoader::with_cache(
        ArchiveLoader { store },
        tokio::spawn,
        HashMapCache::default(),
    )
}

/// A loader for a subscription, which lives as long as the subscription: it batches, but caches
/// nothing, so no event shows data older than its own.
pub fn subscription_data_loader(store: Store) -> ArchiveDataLoader {
    let loader = request_data_loader(store);
    loader.enable_all_cache(false);
    loader
}

/// `batch` reading `store`: the store and a loader of its own in each request's data. Given here, by the caller of the
/// schema, rather than by a schema extension: any extension makes the executor wrap every
/// field of every response in the extension chain.
pub fn with_request_loaders(batch: BatchRequest, store: &Store) -> BatchRequest {
    // The store goes in the request's data too: it overrides the schema's, so that every
    // resolver of the request reads the database chosen for it.
    let with_loader = |request: Request| {
        request
            .data(request_data_loader(store.clone()))
            .data(store.clone())
    };
    match batch {
        BatchRequest::Single(request) => BatchRequest::Single(with_loader(request)),
        BatchRequest::Batch(requests) => {
            BatchRequest::Batch(requests.into_iter().map(with_loader).collect())
        }
    }
}

/// The batch loader of the current request.
pub(crate) fn data_loader<'a>(ctx: &Context<'a>) -> Result<&'a ArchiveDataLoader, ApiError> {
    ctx.data::<ArchiveDataLoader>().map_err(|_| {
        ApiError::Internal(
            "the request has no data loader: execute it with `loaders::with_request_loaders`"
                .to_owned(),
        )
    })
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
    ArchiveLoader: Loader<K, Error = StoreError>,
{
    if selected {
        data_loader(ctx)?.load_many(keys).await?;
    }
    Ok(())
}

/// Puts the tags read with `releases` into the request's loader, where the `programmes` and
/// `offices` resolvers of those releases find them.
pub async fn prime(
    ctx: &Context<'_>,
    releases: impl IntoIterator<Item = (Uuid, EmbeddedTags)>,
) -> Result<(), ApiError> {
    let mut programmes = Vec::new();
    let mut offices = Vec::new();
    for (id, tags) in releases {
        if let Some(list) = tags.programmes {
            programmes.push((ProgrammesOfRelease(id), list));
        }
        if let Some(list) = tags.offices {
            offices.push((OfficesOfRelease(id), list));
        }
    }
    let loader = data_loader(ctx)?;
    if !programmes.is_empty() {
        loader.feed_many(programmes).await;
    }
    if !offices.is_empty() {
        loader.feed_many(offices).await;
    }
    Ok(())
}

#[derive(Debug)]
pub struct ArchiveLoader {
    store: Store,
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

/// The store's answer by key, keyed by the loader's key type.
fn rekey<K: Hash + Eq, I: Hash + Eq, V>(
    answer: HashMap<I, V>,
    key: impl Fn(I) -> K,
) -> HashMap<K, V> {
    answer
        .into_iter()
        .map(|(id, value)| (key(id), value))
        .collect()
}

impl Loader<ProgrammesOfRelease> for ArchiveLoader {
    type Value = Vec<programme::Model>;
    type Error = StoreError;

    async fn load(
        &self,
        keys: &[ProgrammesOfRelease],
    ) -> Result<HashMap<ProgrammesOfRelease, Self::Value>, StoreError> {
        let ids: Vec<Uuid> = keys.iter().map(|key| key.0).collect();
        Ok(rekey(
            self.store.programmes_of_releases(&ids).await?,
            ProgrammesOfRelease,
        ))
    }
}

impl Loader<OfficesOfRelease> for ArchiveLoader {
    type Value = Vec<office::Model>;
    type Error = StoreError;

    async fn load(
        &self,
        keys: &[OfficesOfRelease],
    ) -> Result<HashMap<OfficesOfRelease, Self::Value>, StoreError> {
        let ids: Vec<Uuid> = keys.iter().map(|key| key.0).collect();
        Ok(rekey(
            self.store.offices_of_releases(&ids).await?,
            OfficesOfRelease,
        ))
    }
}

impl Loader<OfficesOfProgramme> for ArchiveLoader {
    type Value = Vec<office::Model>;
    type Error = StoreError;

    async fn load(
        &self,
        keys: &[OfficesOfProgramme],
    ) -> Result<HashMap<OfficesOfProgramme, Self::Value>, StoreError> {
        let ids: Vec<i32> = keys.iter().map(|key| key.0).collect();
        Ok(rekey(
            self.store.offices_of_programmes(&ids).await?,
            OfficesOfProgramme,
        ))
    }
}

impl Loader<ProgrammesOfOffice> for ArchiveLoader {
    type Value = Vec<programme::Model>;
    type Error = StoreError;

    async fn load(
        &self,
        keys: &[ProgrammesOfOffice],
    ) -> Result<HashMap<ProgrammesOfOffice, Self::Value>, StoreError> {
        let ids: Vec<i32> = keys.iter().map(|key| key.0).collect();
        Ok(rekey(
            self.store.programmes_of_offices(&ids).await?,
            ProgrammesOfOffice,
        ))
    }
}

impl Loader<ProgrammeReleaseStats> for ArchiveLoader {
    type Value = ReleaseStats;
    type Error = StoreError;

    async fn load(
        &self,
        keys: &[ProgrammeReleaseStats],
    ) -> Result<HashMap<ProgrammeReleaseStats, ReleaseStats>, StoreError> {
        let ids: Vec<i32> = keys.iter().map(|key| key.0).collect();
        Ok(rekey(
            self.store.release_stats(TagKind::Programme, &ids).await?,
            ProgrammeReleaseStats,
        ))
    }
}

impl Loader<OfficeReleaseStats> for ArchiveLoader {
    type Value = ReleaseStats;
    type Error = StoreError;

    async fn load(
        &self,
        keys: &[OfficeReleaseStats],
    ) -> Result<HashMap<OfficeReleaseStats, ReleaseStats>, StoreError> {
        let ids: Vec<i32> = keys.iter().map(|key| key.0).collect();
        Ok(rekey(
            self.store.release_stats(TagKind::Office, &ids).await?,
            OfficeReleaseStats,
        ))
    }
}
