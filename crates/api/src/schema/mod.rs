//! The GraphQL schema of the archive: one module per type or concern, assembled here. The
//! resolvers read through the store (`crate::store`) and the live updates (`crate::live`), and
//! contain no SQL. `build_schema` gives the executable schema; `sdl` its printed form
//! (`schema.graphql`).

use async_graphql::extensions::apollo_persisted_queries::{
    ApolloPersistedQueries, LruCacheStorage,
};
use async_graphql::{EmptyMutation, Schema, SchemaBuilder};

use crate::live::LiveUpdates;
use crate::ops::limits::Limits;
use crate::store::Store;

pub mod connection;
pub mod context;
pub mod cursor;
pub mod date;
pub mod direct;
pub mod facets;
pub mod filter;
pub mod guard;
pub mod loaders;
pub mod node;
pub mod objects;
pub mod office;
pub mod programme;
pub mod query;
pub mod release;
pub mod subscription;
pub mod suggestions;

use query::Query;
use subscription::Subscription;

/// Parsed documents kept for automatic persisted queries; the least recently used goes first.
const PERSISTED_QUERY_CAPACITY: usize = 1024;

/// The executable schema: queries and subscriptions.
pub type ArchiveSchema = Schema<Query, EmptyMutation, Subscription>;

/// The schema reading `store`, delivering `live` updates, enforcing `limits` on every request
/// and subscription.
pub fn build_schema(store: Store, live: LiveUpdates, limits: &Limits) -> ArchiveSchema {
    let mut builder = schema_builder()
        .extension(guard::QueryGuard::new(limits.clone()))
        .extension(ApolloPersistedQueries::new(LruCacheStorage::new(
            PERSISTED_QUERY_CAPACITY,
        )))
        .limit_directives(limits.max_directives)
        .data(store)
        .data(live);
    if !limits.introspection {
        builder = builder.disable_introspection();
    }
    if !limits.field_suggestions {
        builder = builder.disable_suggestions();
    }
    builder.finish()
}

/// The schema in GraphQL SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}

fn schema_builder() -> SchemaBuilder<Query, EmptyMutation, Subscription> {
    Schema::build(Query, EmptyMutation, Subscription)
}
