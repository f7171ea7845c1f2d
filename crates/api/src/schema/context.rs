//! What a resolver finds in the schema's data: the store it was built with. (The request's
//! batch loader is `loaders::data_loader`.)

use async_graphql::Context;

use crate::error::ApiError;
use crate::store::Store;

/// The store the schema was built with.
pub(crate) fn store<'a>(ctx: &Context<'a>) -> Result<&'a Store, ApiError> {
    ctx.data::<Store>()
        .map_err(|_| ApiError::Internal("the schema was built without a store".to_owned()))
}
