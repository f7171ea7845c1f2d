//! The GraphQL schema of the archive: one module per type or concern, assembled here.
//! `build_schema` gives the executable schema; `sdl` its printed form (`schema.graphql`).

use async_graphql::{Context, EmptyMutation, EmptySubscription, Schema, SchemaBuilder};
use sea_orm::DatabaseConnection;

use crate::error::ApiError;

pub mod connection;
pub mod date;
pub mod error_codes;
pub mod facets;
pub mod filter;
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

/// Most a query may cost: each field counts 1, and everything under a `releases` field counts
/// once per release its page can hold. A page of 100 releases with all their fields, programmes
/// and offices stays well below; 100 releases each listing 100 more releases does not.
pub const MAX_QUERY_COMPLEXITY: usize = 10_000;

/// The executable schema: queries only.
pub type ArchiveSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// The schema serving `db`.
pub fn build_schema(db: DatabaseConnection) -> ArchiveSchema {
    schema_builder()
        .extension(loaders::LoaderPerRequest::new(db.clone()))
        .data(db)
        .finish()
}

/// The schema in GraphQL SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}

fn schema_builder() -> SchemaBuilder<Query, EmptyMutation, EmptySubscription> {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .limit_complexity(MAX_QUERY_COMPLEXITY)
        .extension(error_codes::RequestErrorCodes)
}

/// The database connection the schema was built with.
pub(crate) fn database<'a>(ctx: &Context<'a>) -> Result<&'a DatabaseConnection, ApiError> {
    ctx.data::<DatabaseConnection>()
        .map_err(|_| ApiError::Internal("the schema was built without a database".to_owned()))
}

/// The batch loader of the current request.
pub(crate) fn data_loader<'a>(ctx: &Context<'a>) -> Result<&'a ArchiveDataLoader, ApiError> {
    ctx.data::<ArchiveDataLoader>().map_err(|_| {
        ApiError::Internal("the request has no data loader: use `build_schema`".to_owned())
    })
}
