//! One log line and one set of metrics per HTTP request, and the request id that ties a request's
//! log events to the response the client saw. The `/graphql` handler reports which operation ran
//! and how it ended by attaching a `GraphqlOutcome` to its response.

use std::time::Instant;

use async_graphql::parser::types::DocumentOperations;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::request_id::RequestId;
use tracing::Instrument;

use crate::ops::metrics::{ANONYMOUS, METRICS_PATH, Metrics, is_operation_name};

/// The header that carries the request id, both ways.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
/// Longest client-sent request id kept; longer ones are replaced by a fresh UUID.
pub const MAX_REQUEST_ID_LEN: usize = 128;
/// The `outcome` of a GraphQL operation without errors.
pub const OK: &str = "ok";
/// The `outcome` of an error that carries no `extensions.code`.
pub const UNCODED_ERROR: &str = "error";
/// The `route` label of requests that matched no route.
pub const UNMATCHED: &str = "unmatched";
/// Routes polled by load balancers and Prometheus: logged at DEBUG, so that INFO logs show
/// traffic rather than one line per probe every few seconds.
const PROBE_ROUTES: [&str; 3] = ["/healthz", "/readyz", METRICS_PATH];

/// How one GraphQL operation ended, as the `/graphql` handler reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphqlOutcome {
    /// The operation's name, as given by the client (see `operation_name`).
    pub operation: Option<String>,
    /// `ok`, or the first error's `extensions.code` in lower case (`bad_user_input`, …).
    pub outcome: String,
}

/// Every outcome attached to one HTTP response: one, or one per operation of a batch.
#[derive(Debug, Clone, Default)]
struct GraphqlOutcomes(Vec<GraphqlOutcome>);

impl GraphqlOutcome {
    /// The outcome of an executed operation named `operation`.
    pub fn from_response(
        response: &async_graphql::Response,
        operation: Option<&str>,
    ) -> GraphqlOutcome {
        let outcome = match response.errors.first() {
            None => OK.to_owned(),
            Some(error) => match error.extensions.as_ref().and_then(|ext| ext.get("code")) {
                Some(async_graphql::Value::String(code)) => code.to_ascii_lowercase(),
                _ => UNCODED_ERROR.to_owned(),
            },
        };
        GraphqlOutcome {
            operation: operation.map(str::to_owned),
            outcome,
        }
    }

    /// The outcome of an operation named `operation` answered without errors.
    pub fn ok(operation: Option<&str>) -> GraphqlOutcome {
        GraphqlOutcome {
            operation: operation.map(str::to_owned),
            outcome: OK.to_owned(),
        }
    }

    /// The outcome of a request refused before execution with the error code `code`
    /// (e.g. `QUERY_TOO_COMPLEX`, `PAYLOAD_TOO_LARGE`).
    pub fn refused(operation: Option<&str>, code: &str) -> GraphqlOutcome {
        GraphqlOutcome {
            operation: operation.map(str::to_owned),
            outcome: code.to_ascii_lowercase(),
        }
    }

    /// Hands the outcome to the request log and the metrics. Attach once per operation: the
    /// outcomes of a batch add up.
    pub fn attach(self, response: &mut Response) {
        let extensions = response.extensions_mut();
        match extensions.get_mut::<GraphqlOutcomes>() {
            Some(outcomes) => outcomes.0.push(self),
            None => {
                extensions.insert(GraphqlOutcomes(vec![self]));
            }
        }
    }
}

/// The name of the operation `request` will run: `operationName` if given, else the name of
/// the document's only operation. Parses the document if needed; execution reuses the parse.
pub fn operation_name(request: &mut async_graphql::Request) -> Option<String> {
    if let Some(name) = &request.operation_name {
        return Some(name.clone());
    }
    match &request.parsed_query().ok()?.operations {
        DocumentOperations::Multiple(operations) if operations.len() == 1 => {
            operations.keys().next().map(|name| name.to_string())
        }
        _ => None,
    }
}

/// Whether a client-sent request id can be kept: short, and only characters that are safe in
/// logs and headers (UUIDs, ULIDs and the ids of common proxies all are).
pub fn is_usable_request_id(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_REQUEST_ID_LEN
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Removes a request id the client sent if it is unusable (or sent twice), so that
/// `SetRequestIdLayer` replaces it with a UUID.
pub async fn drop_unusable_request_id(mut request: Request) -> Request {
    let mut sent = request.headers().get_all(&REQUEST_ID_HEADER).iter();
    let usable = match (sent.next(), sent.next()) {
        (None, _) => true,
        (Some(id), None) => is_usable_request_id(id),
        (Some(_), Some(_)) => false,
    };
    if !usable {
        request.headers_mut().remove(&REQUEST_ID_HEADER);
    }
    request
}

/// Runs the request inside a span that carries its id, then counts it and logs it once.
pub async fn log_request(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    // The path without the query string: query strings may hold whole GraphQL documents and
    // variables, which belong neither in logs nor in their size budget.
    let path = request.uri().path().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
        .to_owned();
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or_default()
        .to_owned();
    // At ERROR level so that the span exists under any filter that lets a warning or error
    // through: those are the events that most need the request id.
    let span = tracing::error_span!("request", %request_id, %method, %path);
    let response = next.run(request).instrument(span).await;
    let elapsed = started.elapsed();

    let status = response.status();
    metrics.record_http(&route, status, elapsed);
    let outcomes = response
        .extensions()
        .get::<GraphqlOutcomes>()
        .cloned()
        .unwrap_or_default()
        .0;
    for outcome in &outcomes {
        metrics.record_graphql(outcome.operation.as_deref(), &outcome.outcome, elapsed);
    }
    let entry = LogEntry {
        method,
        path,
        status,
        duration_ms: elapsed.as_secs_f64() * 1000.0,
        request_id,
        operation: joined(&outcomes, |o| {
            o.operation
                .as_deref()
                .filter(|name| is_operation_name(name))
                .unwrap_or(ANONYMOUS)
        }),
        outcome: joined(&outcomes, |o| o.outcome.as_str()),
    };
    if PROBE_ROUTES.contains(&route.as_str()) {
        entry.log_debug();
    } else {
        entry.log_info();
    }
    response
}

/// The fields of the one line logged per request.
struct LogEntry {
    method: Method,
    path: String,
    status: StatusCode,
    duration_ms: f64,
    request_id: String,
    /// Only for GraphQL requests; a batch lists its operations separated by commas.
    operation: Option<String>,
    outcome: Option<String>,
}

/// `tracing` fixes an event's level at its call site, so the one event is written out per level.
macro_rules! log_entry {
    ($level:expr, $entry:expr) => {
        tracing::event!(
            $level,
            method = %$entry.method,
            path = %$entry.path,
            status = $entry.status.as_u16(),
            duration_ms = ($entry.duration_ms * 1000.0).round() / 1000.0,
            request_id = %$entry.request_id,
            operation = $entry.operation.as_deref().map(tracing::field::display),
            outcome = $entry.outcome.as_deref().map(tracing::field::display),
            "request"
        )
    };
}

impl LogEntry {
    fn log_info(&self) {
        log_entry!(tracing::Level::INFO, self);
    }

    fn log_debug(&self) {
        log_entry!(tracing::Level::DEBUG, self);
    }
}

fn joined(outcomes: &[GraphqlOutcome], field: impl Fn(&GraphqlOutcome) -> &str) -> Option<String> {
    if outcomes.is_empty() {
        return None;
    }
    Some(outcomes.iter().map(field).collect::<Vec<_>>().join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response_with_code(code: &str) -> async_graphql::Response {
        let mut error = async_graphql::ServerError::new("no", None);
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
        async_graphql::Response::from_errors(vec![error])
    }

    #[test]
    fn the_outcome_is_ok_or_the_first_error_code_in_lower_case() {
        let ok = GraphqlOutcome::from_response(&async_graphql::Response::default(), Some("Q"));
        assert_eq!(ok.outcome, "ok");
        assert_eq!(ok.operation.as_deref(), Some("Q"));
        let failed = GraphqlOutcome::from_response(&response_with_code("BAD_USER_INPUT"), None);
        assert_eq!(failed.outcome, "bad_user_input");
        let uncoded = GraphqlOutcome::from_response(
            &async_graphql::Response::from_errors(vec![async_graphql::ServerError::new(
                "no", None,
            )]),
            None,
        );
        assert_eq!(uncoded.outcome, UNCODED_ERROR);
        assert_eq!(
            GraphqlOutcome::refused(None, "QUERY_TOO_COMPLEX").outcome,
            "query_too_complex"
        );
    }

    #[test]
    fn the_operation_name_comes_from_the_request_or_its_only_named_operation() {
        let mut explicit =
            async_graphql::Request::new("query A { x } query B { x }").operation_name("B");
        assert_eq!(operation_name(&mut explicit).as_deref(), Some("B"));
        let mut single = async_graphql::Request::new("query Only { x }");
        assert_eq!(operation_name(&mut single).as_deref(), Some("Only"));
        let mut anonymous = async_graphql::Request::new("{ x }");
        assert_eq!(operation_name(&mut anonymous), None);
        let mut ambiguous = async_graphql::Request::new("query A { x } query B { x }");
        assert_eq!(operation_name(&mut ambiguous), None);
        let mut broken = async_graphql::Request::new("query {");
        assert_eq!(operation_name(&mut broken), None);
    }

    #[test]
    fn outcomes_of_a_batch_add_up() {
        let mut response = Response::default();
        GraphqlOutcome::refused(Some("A"), "OK").attach(&mut response);
        GraphqlOutcome::refused(Some("B"), "INTERNAL").attach(&mut response);
        let outcomes = response
            .extensions()
            .get::<GraphqlOutcomes>()
            .map(|o| o.0.len());
        assert_eq!(outcomes, Some(2));
    }

    #[test]
    fn request_ids_are_kept_only_when_short_and_plain() {
        let usable = |id: &str| {
            is_usable_request_id(&HeaderValue::from_str(id).unwrap_or_else(|e| panic!("{e}")))
        };
        assert!(usable("0b6c1c8e-3f4a-4c39-9d54-2d7f0b1f1a11"));
        assert!(usable("01HZY3T9J6V2:edge.7"));
        assert!(!usable(""));
        assert!(!usable("two words"));
        assert!(!usable("id\"}{\"injected"));
        assert!(!usable(&"a".repeat(MAX_REQUEST_ID_LEN + 1)));
    }
}
