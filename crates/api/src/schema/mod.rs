//! The GraphQL schema of the archive: one module per type or concern, assembled here.
//! `build_schema` gives the executable schema; `sdl` its printed form (`schema.graphql`).

use async_graphql::extensions::apollo_persisted_queries::{
    ApolloPersistedQueries, LruCacheStorage,
};
use async_graphql::{Context, EmptyMutation, EmptySubscription, Schema, SchemaBuilder};
use sea_orm::DatabaseConnection;

use crate::error::ApiError;
use crate::ops::limits::Limits;

pub mod connection;
pub mod date;
pub mod embedded_tags;
pub mod facets;
pub mod filter;
pub mod guard;
pub mod loaders;
pub mod node;
pub mod office;
pub mod programme;
pub mod query;
pub mod related;
pub mod release;
pub mod search;

use loaders::ArchiveDataLoader;
use query::Query;

/// Parsed documents kept for automatic persisted queries; the least recently used goes first.
const PERSISTED_QUERY_CAPACITY: usize = 1024;

/// The executable schema: queries only.
pub type ArchiveSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// The schema serving `db`, enforcing `limits` on every request.
pub fn build_schema(db: DatabaseConnection, limits: &Limits) -> ArchiveSchema {
    let mut builder = schema_builder()
        .extension(guard::QueryGuard::new(limits.clone()))
        .extension(ApolloPersistedQueries::new(LruCacheStorage::new(
            PERSISTED_QUERY_CAPACITY,
        )))
        .limit_directives(limits.max_directives)
        .data(db);
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

fn schema_builder() -> SchemaBuilder<Query, EmptyMutation, EmptySubscription> {
    Schema::build(Query, EmptyMutation, EmptySubscription)
}

/// The database connection the schema was built with.
pub(crate) fn database<'a>(ctx: &Context<'a>) -> Result<&'a DatabaseConnection, ApiError> {
    ctx.data::<DatabaseConnection>()
        .map_err(|_| ApiError::Internal("the schema was built without a database".to_owned()))
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
