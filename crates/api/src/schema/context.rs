//! What a resolver reads through: the store of its request (the database the HTTP edge chose
//! for it, given with the request's loaders), else the one the schema was built with. (The
//! request's batch loader is `loaders::data_loader`.)

use async_graphql::Context;

use crate::error::ApiError;
use crate::store::Store;

/// The request's store, else the schema's (request data comes first in async-graphql).
pub(crate) fn store<'a>(ctx: &Context<'a>) -> Result<&'a Store, ApiError> {
    ctx.data::<Store>()
        .map_err(|_| ApiError::Internal("the schema was built without a store".to_owned()))
}
