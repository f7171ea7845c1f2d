//! Gives errors found before execution (syntax, validation such as a wrong argument type or an
//! unknown enum value, the complexity limit) the `BAD_USER_INPUT` code, so that every error a
//! client sees has a code.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerError, ServerResult, ValidationResult, Variables};

use crate::error::BAD_USER_INPUT;
use crate::schema::MAX_QUERY_COMPLEXITY;

/// Schema extension that tags request errors with `extensions.code = "BAD_USER_INPUT"`.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestErrorCodes;

impl ExtensionFactory for RequestErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestErrorCodes)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for RequestErrorCodes {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables)
            .await
            .map_err(with_bad_user_input_code)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx)
            .await
            .map_err(|errors| errors.into_iter().map(with_bad_user_input_code).collect())
    }
}

/// async-graphql's message for a query over the complexity limit, which does not say what to do.
const TOO_COMPLEX: &str = "Query is too complex.";

fn with_bad_user_input_code(mut error: ServerError) -> ServerError {
    if error.message == TOO_COMPLEX {
        error.message = format!(
            "the query is too costly (over {MAX_QUERY_COMPLEXITY} points, counting each field once per release a page can hold): ask for smaller pages (`first`/`last`), fewer fields, or fewer nested `releases`"
        );
    }
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", BAD_USER_INPUT);
    }
    error
}
