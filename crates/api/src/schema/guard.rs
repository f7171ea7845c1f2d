//! Checks every request before it executes: the alias count on the parsed document, depth and
//! cost from validation, and a code on every error found before execution. The measured cost
//! and depth go into the response's `extensions.cost`, for the HTTP layer to show when asked.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextRequest, NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Response, ServerError, ServerResult, ValidationResult, Value, Variables};

use crate::error::ErrorCode;
use crate::ops::limits::Limits;

/// Key of the cost report in the response's extensions.
pub const COST_EXTENSION: &str = "cost";

/// Schema extension enforcing `Limits` that need the parsed document or its validation.
#[derive(Debug, Clone)]
pub struct QueryGuard {
    limits: Arc<Limits>,
}

impl QueryGuard {
    pub fn new(limits: Limits) -> QueryGuard {
        QueryGuard {
            limits: Arc::new(limits),
        }
    }
}

impl ExtensionFactory for QueryGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(GuardedRequest {
            limits: Arc::clone(&self.limits),
            measured: Mutex::new(None),
            introspection_only: AtomicBool::new(false),
        })
    }
}

/// One request's guard: remembers what validation measured until the response is built.
struct GuardedRequest {
    limits: Arc<Limits>,
    measured: Mutex<Option<(usize, usize)>>,
    /// Set when the document asks only about the schema itself (`__schema`, `__type`).
    introspection_only: AtomicBool,
}

#[async_graphql::async_trait::async_trait]
impl Extension for GuardedRequest {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        for error in &mut response.errors {
            if let Some(message) = without_parse_wrapper(&error.message) {
                error.message = message;
            }
            // Apollo's persisted-query links retry with the full query on exactly this code.
            let code = if error.message == "PersistedQueryNotFound" {
                ErrorCode::PersistedQueryNotFound
            } else {
                ErrorCode::BadUserInput
            };
            if error.path.is_empty() {
                *error = with_code(error.clone(), code);
            }
        }
        let measured = *self.measured.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((cost, depth)) = measured {
            let report = serde_json::json!({
                "cost": cost,
                "maxCost": self.limits.max_cost,
                "depth": depth,
                "maxDepth": self.limits.max_depth,
            });
            if let Ok(value) = Value::from_json(report) {
                response.extensions.insert(COST_EXTENSION.to_owned(), value);
            }
        }
        response
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next
            .run(ctx, query, variables)
            .await
            .map_err(|error| self.explain_parse_error(error))?;
        self.introspection_only
            .store(is_introspection_only(&document), Ordering::Relaxed);
        let aliases = count_aliases(&document);
        if aliases > self.limits.max_aliases {
            return Err(coded(
                format!(
                    "the query uses {aliases} aliases: use at most {}, or split it into several requests",
                    self.limits.max_aliases
                ),
                ErrorCode::TooManyAliases,
            ));
        }
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|error| with_code(error, ErrorCode::BadUserInput))
                .collect::<Vec<_>>()
        })?;
        *self.measured.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((result.complexity, result.depth));
        let limits = &self.limits;
        // The standard introspection query (GraphiQL's, codegen tools') nests `ofType` about a
        // dozen levels deep; its size is fixed by the schema, not by the data, so depth is not
        // what makes it costly. Its cost is still limited below.
        let depth_limited = !self.introspection_only.load(Ordering::Relaxed);
        if depth_limited && result.depth > limits.max_depth {
            return Err(vec![coded(
                format!(
                    "the query is nested {} fields deep: use at most {}, e.g. by asking for nested releases in a second request",
                    result.depth, limits.max_depth
                ),
                ErrorCode::QueryTooDeep,
            )]);
        }
        if result.complexity > limits.max_cost {
            return Err(vec![coded(
                format!(
                    "the query costs {} points, over the limit of {} (each field counts once per release a page can hold): ask for smaller pages (`first`/`last`), fewer fields, or fewer nested `releases`",
                    result.complexity, limits.max_cost
                ),
                ErrorCode::QueryTooComplex,
            )]);
        }
        Ok(result)
    }
}

impl GuardedRequest {
    /// Parse errors are the client's to fix; the two that come from async-graphql's own limits
    /// get their limit's code and a message that says what to change.
    fn explain_parse_error(&self, error: ServerError) -> ServerError {
        if ["recursion depth", "recursion limit", "stack limit"]
            .iter()
            .any(|symptom| error.message.contains(symptom))
        {
            coded(
                format!(
                    "the query is nested too deeply, or its fragments spread each other in a cycle: use at most {} levels of fields, and fragments that do not include themselves",
                    self.limits.max_depth
                ),
                ErrorCode::QueryTooDeep,
            )
        } else if error.message.contains("directives") {
            coded(
                format!(
                    "a field carries too many directives: use at most {} on one field",
                    self.limits.max_directives
                ),
                ErrorCode::TooManyDirectives,
            )
        } else {
            with_code(concise_syntax_error(error), ErrorCode::BadUserInput)
        }
    }
}

/// The parser's message quotes the whole offending line, which for a long one-line query is
/// the query itself; its last line says what was expected, and `locations` says where.
fn concise_syntax_error(mut error: ServerError) -> ServerError {
    if let Some(expected) = error
        .message
        .lines()
        .rev()
        .find_map(|line| line.trim().strip_prefix("= "))
    {
        error.message = format!("syntax error: {expected}");
    }
    error
}

/// Whether every operation selects only introspection fields at its top level.
fn is_introspection_only(document: &ExecutableDocument) -> bool {
    document.operations.iter().all(|(_, operation)| {
        operation
            .node
            .selection_set
            .node
            .items
            .iter()
            .all(|selection| match &selection.node {
                Selection::Field(field) => field.node.name.node.starts_with("__"),
                _ => false,
            })
    })
}

/// Aliased fields in every operation and fragment of `document`.
pub fn count_aliases(document: &ExecutableDocument) -> usize {
    let operations: usize = document
        .operations
        .iter()
        .map(|(_, operation)| aliases_in(&operation.node.selection_set.node))
        .sum();
    let fragments: usize = document
        .fragments
        .values()
        .map(|fragment| aliases_in(&fragment.node.selection_set.node))
        .sum();
    operations + fragments
}

fn aliases_in(selection_set: &SelectionSet) -> usize {
    selection_set
        .items
        .iter()
        .map(|selection| match &selection.node {
            Selection::Field(field) => {
                usize::from(field.node.alias.is_some()) + aliases_in(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => aliases_in(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

/// A scalar's own message without what async-graphql wraps around it:
/// `Failed to parse "Date": "2021-02-30" is not a date: … (occurred while parsing
/// "ReleaseFilter")` becomes `"2021-02-30" is not a date: …`. The error's `locations` and
/// `path` already say where the value is; the wrapper only names types a user never wrote.
fn without_parse_wrapper(message: &str) -> Option<String> {
    let rest = message.strip_prefix("Failed to parse \"")?;
    let (_type_name, mut inner) = rest.split_once("\": ")?;
    while let Some(stripped) = inner.strip_suffix("\")") {
        match stripped.rfind(" (occurred while parsing \"") {
            Some(at) => inner = &stripped[..at],
            None => break,
        }
    }
    Some(inner.to_owned())
}

fn coded(message: String, code: ErrorCode) -> ServerError {
    with_code(ServerError::new(message, None), code)
}

/// `error` with `code` unless it already has one.
fn with_code(mut error: ServerError, code: ErrorCode) -> ServerError {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code.as_str());
    }
    error
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::{count_aliases, without_parse_wrapper};

    #[test]
    fn scalar_messages_lose_the_parse_wrapper() {
        assert_eq!(
            without_parse_wrapper(
                "Failed to parse \"Date\": \"2021-02-30\" is not a date: February 2021 has 28 days (occurred while parsing \"ReleaseFilter\")"
            )
            .as_deref(),
            Some("\"2021-02-30\" is not a date: February 2021 has 28 days")
        );
        assert_eq!(
            without_parse_wrapper("Failed to parse \"Int\": Only integers from -2147483648 to 2147483647 are accepted.").as_deref(),
            Some("Only integers from -2147483648 to 2147483647 are accepted.")
        );
        assert_eq!(without_parse_wrapper("unknown programme"), None);
    }

    #[test]
    fn aliases_are_counted_in_operations_fragments_and_nested_fields() {
        let document = parse_query(
            "query { a: releases { b: nodes { title } } ...F }
             fragment F on Query { c: programmes { slug } ... on Query { d: offices { slug } } }",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(count_aliases(&document), 4);
    }
}
