//! The GraphQL endpoint's HTTP edge, per the GraphQL-over-HTTP specification: reads a request
//! from a bounded POST body (batches capped) or a GET query string, negotiates the response
//! media type, answers request errors with 4xx where the media type allows, enforces the
//! deadline, and makes successful GET queries cacheable (`ETag`, `304 Not Modified`). Answers
//! without errors are kept in the response cache, when there is one, until the archive changes.

use async_graphql::http::parse_query_string;
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{BatchRequest, BatchResponse, Request, Variables};
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use futures::StreamExt;
use serde_json::{Value, json};
use std::sync::{Arc, LazyLock};

use crate::error::ErrorCode;
use crate::http::assets::playground_page;
use crate::http::entity_tag::{entity_tag, if_none_match};
use crate::http::request_log::{GraphqlOutcome, operation_name};
use crate::http::response_cache::{CacheKey, CachedAnswer, ResponseCache, Ticket};
use crate::http::state::AppState;
use crate::ops::metrics::CacheLookup;
use crate::ops::read_routing::ReadTarget;
use crate::schema::direct::{Compiled, Fallback, Lookup, Planned};
use crate::schema::guard::COST_EXTENSION;
use crate::schema::loaders::with_request_loaders;

/// The GraphQL-over-HTTP media type: status codes follow the outcome of the request.
const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
/// The traditional media type: every well-formed request is answered 200.
const APPLICATION_JSON: &str = "application/json";
/// Request header asking for the query's cost and depth in `extensions.cost`.
pub const REPORT_COST_HEADER: &str = "x-report-cost";

/// What a subscription sent as a plain request is told.
const SUBSCRIPTION_TRANSPORTS: &str = "subscriptions stream their events: send them with `Accept: text/event-stream` (GraphQL over SSE), or over a WebSocket to /graphql (graphql-transport-ws)";

/// Where the GraphQL endpoint and the playground live.
pub const GRAPHQL_PATH: &str = "/graphql";

/// What the playground shows on a first visit: releases by programme, ready to run.
pub const EXAMPLE_QUERY: &str = r#"# Press releases about one programme, newest first. Press ▶ (or Ctrl-Enter) to run.
# Other programmes: `programmes { slug name }`. Next page: `after: "<endCursor>"`.
query ReleasesByProgramme {
  programme(slug: "score") {
    name
    releaseCount
  }
  releases(filter: { programmes: ["score"] }, first: 5) {
    totalCount
    nodes {
      publishedOn
      title
      offices { name }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"#;

/// GraphiQL, opened on `EXAMPLE_QUERY`; its files are embedded and served by `crate::http::assets`,
/// so the playground needs no internet access.
static PLAYGROUND: LazyLock<String> =
    LazyLock::new(|| playground_page(GRAPHQL_PATH, EXAMPLE_QUERY));

/// The playground page, for browsers opening the GraphQL endpoint.
fn playground() -> Html<&'static str> {
    Html(PLAYGROUND.as_str())
}

/// How long a client or cache may reuse the answer to a GET query. The archive only changes
/// when listings are ingested, so a minute of staleness is harmless; after it, the `ETag`
/// lets the client revalidate with a `304`.
const GET_CACHE_CONTROL: &str = "public, max-age=60";

/// The media type a response is sent as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MediaType {
    GraphqlResponseJson,
    Json,
}

impl MediaType {
    fn as_str(self) -> &'static str {
        match self {
            MediaType::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
            MediaType::Json => "application/json; charset=utf-8",
        }
    }

    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(self.as_str())
    }
}

/// A request's place in the response cache: where its answer goes once computed.
struct CacheSlot {
    cache: ResponseCache,
    key: CacheKey,
    ticket: Ticket,
}

/// The cached answer to `key`, or, on a miss, where to keep the answer (`None` when the
/// server has no cache or it is not storing).
fn look_up(state: &AppState, key: CacheKey) -> Result<Arc<CachedAnswer>, Option<CacheSlot>> {
    let Some(cache) = &state.response_cache else {
        return Err(None);
    };
    if let Some(answer) = cache.get(&key) {
        state.metrics.record_cache_lookup(CacheLookup::Hit);
        return Ok(answer);
    }
    let Some(ticket) = cache.ticket() else {
        state.metrics.record_cache_lookup(CacheLookup::Bypass);
        return Err(None);
    };
    // Checked after the ticket is taken: if the search index shows every change heard of by
    // then, whatever snapshot the request reads does too, and a later change voids the ticket.
    if !state.search_freshness.is_current() {
        state.metrics.record_cache_lookup(CacheLookup::Bypass);
        return Err(None);
    }
    state.metrics.record_cache_lookup(CacheLookup::Miss);
    Err(Some(CacheSlot {
        cache: cache.clone(),
        key,
        ticket,
    }))
}

impl CacheSlot {
    /// Keeps the answer of a query that ran without errors on `read`.
    fn keep(self, body: &Bytes, operation: Option<&str>, etag: Option<&str>, read: &ReadTarget) {
        self.cache.put(
            self.ticket,
            self.key,
            CachedAnswer {
                body: body.clone(),
                operation: operation.map(str::to_owned),
                etag: etag.map(str::to_owned),
            },
            read,
        );
    }
}

/// POST /graphql: one request, or a batch as a JSON array.
pub async fn graphql_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let media = match negotiate(&headers) {
        Ok(media) => media,
        Err(refusal) => return refusal.into_response(MediaType::Json),
    };
    if let Err(refusal) = check_content_type(&headers) {
        return refusal.into_response(media);
    }
    let limit = state.limits.max_body_bytes;
    let bytes = match read_body(body, &headers, limit).await {
        Ok(bytes) => bytes,
        Err(refusal) => return refusal.into_response(media),
    };
    let report_cost = wants_cost(&headers);
    // Looked up before the body is even parsed; batches are never kept.
    let is_batch = bytes.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'[');
    let key = CacheKey {
        request: bytes.clone(),
        get: false,
        media: media.as_str(),
        report_cost,
    };
    let slot = if is_batch {
        None
    } else {
        match look_up(&state, key) {
            Ok(answer) => {
                let mut response = json_response(StatusCode::OK, media, answer.body.clone());
                GraphqlOutcome::ok(answer.operation.as_deref()).attach(&mut response);
                return response;
            }
            Err(slot) => slot,
        }
    };
    if !is_batch && !report_cost {
        match answer_by_plan(&state, &bytes, media).await {
            Ok(Some(answer)) => {
                if let Some(slot) = slot.filter(|_| answer.keep) {
                    slot.keep(
                        &answer.body,
                        answer.outcome.operation.as_deref(),
                        None,
                        &answer.read,
                    );
                }
                let mut response = json_response(answer.status, media, answer.body);
                answer.outcome.attach(&mut response);
                return response;
            }
            Ok(None) => {}
            Err(refusal) => return refusal.into_response(media),
        }
    }
    let batch = match read_batch(&bytes, state.limits.max_batch) {
        Ok(batch) => batch,
        Err(refusal) => return refusal.into_response(media),
    };
    match batch {
        BatchRequest::Single(mut request) => {
            if let Err(refusal) = check_document(&request, &state) {
                return refusal.into_response(media);
            }
            if operation_type(&mut request) == Some(OperationType::Subscription) {
                return Refusal::bad_request(SUBSCRIPTION_TRANSPORTS).into_response(media);
            }
            let operation = operation_name(&mut request);
            let compiled = compile_unknown(&state, &mut request);
            match execute(&state, BatchRequest::Single(request)).await {
                Ok((BatchResponse::Single(response), read)) => {
                    let outcome = GraphqlOutcome::from_response(&response, operation.as_deref());
                    let succeeded = response.is_ok();
                    if let Some((query, compiled)) = compiled.filter(|_| succeeded) {
                        state.plans.learn(query, compiled);
                    }
                    let (status, body) = graphql_body(media, response, report_cost);
                    if let Some(slot) = slot.filter(|_| succeeded) {
                        slot.keep(&body, operation.as_deref(), None, &read);
                    }
                    let mut response = json_response(status, media, body);
                    outcome.attach(&mut response);
                    response
                }
                Ok((BatchResponse::Batch(_), _)) => {
                    Refusal::internal("a single request was answered as a batch")
                        .into_response(media)
                }
                Err(refusal) => refusal.into_response(media),
            }
        }
        BatchRequest::Batch(mut requests) => {
            for request in &requests {
                if let Err(refusal) = check_document(request, &state) {
                    return refusal.into_response(media);
                }
            }
            let operations: Vec<Option<String>> = requests.iter_mut().map(operation_name).collect();
            match execute(&state, BatchRequest::Batch(requests)).await {
                Ok((response, _)) => {
                    let responses = match response {
                        BatchResponse::Single(response) => vec![response],
                        BatchResponse::Batch(responses) => responses,
                    };
                    let outcomes: Vec<GraphqlOutcome> = responses
                        .iter()
                        .zip(&operations)
                        .map(|(response, operation)| {
                            GraphqlOutcome::from_response(response, operation.as_deref())
                        })
                        .collect();
                    // A JSON array of the serialised responses, each with its fields in order.
                    let mut body = vec![b'['];
                    for (index, response) in responses.into_iter().enumerate() {
                        if index > 0 {
                            body.push(b',');
                        }
                        body.extend_from_slice(&graphql_body(media, response, report_cost).1);
                    }
                    body.push(b']');
                    let mut response = json_response(StatusCode::OK, media, body.into());
                    for outcome in outcomes {
                        outcome.attach(&mut response);
                    }
                    response
                }
                Err(refusal) => refusal.into_response(media),
            }
        }
    }
}

/// GET /graphql: a query in the URL, or, without one, the playground (for browsers) or
/// directions (for everything else).
pub async fn graphql_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query_string): RawQuery,
) -> Response {
    let query_string = query_string.unwrap_or_default();
    if query_string.is_empty() && accepts_html(&headers) {
        return playground().into_response();
    }
    let media = match negotiate(&headers) {
        Ok(media) => media,
        Err(refusal) => return refusal.into_response(MediaType::Json),
    };
    let key = CacheKey {
        request: Bytes::from(query_string.clone()),
        get: true,
        media: media.as_str(),
        report_cost: wants_cost(&headers),
    };
    let slot = match look_up(&state, key) {
        Ok(answer) => {
            let outcome = GraphqlOutcome::ok(answer.operation.as_deref());
            return get_response(
                &headers,
                media,
                StatusCode::OK,
                answer.body.clone(),
                answer.etag.clone(),
                outcome,
            );
        }
        Err(slot) => slot,
    };
    let mut request = match parse_query_string(&query_string) {
        Ok(request) => request,
        Err(error) => {
            return Refusal::bad_request(format!(
                "cannot read the request from the URL ({error}): pass `query`, and `variables` as URL-encoded JSON"
            ))
            .into_response(media);
        }
    };
    if request.query.trim().is_empty() && !request.extensions.contains_key("persistedQuery") {
        return Refusal::bad_request(
            "no query: send GET /graphql?query=… or POST a JSON body {\"query\": …}",
        )
        .into_response(media);
    }
    if let Err(refusal) = check_document(&request, &state) {
        return refusal.into_response(media);
    }
    if !is_query_operation(&mut request) {
        // A GET may be repeated or prefetched by anything on the way, so it must not change data.
        let mut response = Refusal {
            status: StatusCode::METHOD_NOT_ALLOWED,
            code: ErrorCode::BadUserInput,
            message: format!(
                "only queries can be sent with GET: send mutations with POST; {SUBSCRIPTION_TRANSPORTS}"
            ),
        }
        .into_response(media);
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
        return response;
    }
    let operation = operation_name(&mut request);
    let (response, read) = match execute(&state, BatchRequest::Single(request)).await {
        Ok((BatchResponse::Single(response), read)) => (response, read),
        Ok((BatchResponse::Batch(_), _)) => {
            return Refusal::internal("a single request was answered as a batch")
                .into_response(media);
        }
        Err(refusal) => return refusal.into_response(media),
    };
    let cacheable = response.is_ok();
    let outcome = GraphqlOutcome::from_response(&response, operation.as_deref());
    let (status, body) = graphql_body(media, response, wants_cost(&headers));
    let cacheable = cacheable && status == StatusCode::OK;
    // The validator is computed over the exact bytes sent, before they move into the response.
    let etag = cacheable.then(|| entity_tag(&body));
    if let Some(slot) = slot.filter(|_| cacheable) {
        slot.keep(&body, operation.as_deref(), etag.as_deref(), &read);
    }
    get_response(&headers, media, status, body, etag, outcome)
}

/// A GET answer: with a validator (`ETag`, and `304` when the client has it) and a lifetime
/// when it may be reused, `no-store` otherwise.
fn get_response(
    headers: &HeaderMap,
    media: MediaType,
    status: StatusCode,
    body: Bytes,
    etag: Option<String>,
    outcome: GraphqlOutcome,
) -> Response {
    let mut response = json_response(status, media, body);
    if let Some(etag) = etag {
        if if_none_match(headers, &etag) {
            response = StatusCode::NOT_MODIFIED.into_response();
        }
        let headers = response.headers_mut();
        if let Ok(etag) = HeaderValue::from_str(&etag) {
            headers.insert(header::ETAG, etag);
        }
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(GET_CACHE_CONTROL),
        );
    } else {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    outcome.attach(&mut response);
    response
}

/// A POST body read only as far as finding its plan needs.
#[derive(serde::Deserialize)]
struct PlainBody<'a> {
    #[serde(borrow)]
    query: std::borrow::Cow<'a, str>,
    #[serde(default, rename = "operationName", borrow)]
    operation_name: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    variables: Option<Variables>,
    #[serde(default)]
    extensions: Option<serde::de::IgnoredAny>,
}

/// What the plan of a request answered, and from which database.
struct PlanAnswer {
    status: StatusCode,
    body: Bytes,
    outcome: GraphqlOutcome,
    /// Whether the answer may be kept in the response cache (it has no errors).
    keep: bool,
    read: ReadTarget,
}

/// The answer of the plan of the request in `bytes`, when its document has a plan that can
/// answer it (`crate::schema::direct`); `None` leaves the request to the schema. Persisted
/// queries (any `extensions`) always go to the schema, and so does a request whose replica
/// failed, so that it runs once more elsewhere.
async fn answer_by_plan(
    state: &AppState,
    bytes: &Bytes,
    media: MediaType,
) -> Result<Option<PlanAnswer>, Refusal> {
    let Ok(body) = serde_json::from_slice::<PlainBody>(bytes) else {
        return Ok(None);
    };
    if body.extensions.is_some() {
        return Ok(None);
    }
    let Lookup::Plan(compiled) = state
        .plans
        .lookup(&body.query, body.operation_name.as_deref())
    else {
        return Ok(None);
    };
    let variables = body.variables.unwrap_or_default();
    let deadline = state.limits.request_timeout();
    let read = state.reads.choose();
    let answered = tokio::time::timeout(
        deadline,
        compiled.answer(&variables, &read.store, &state.limits),
    )
    .await
    .map_err(|_| past_deadline(deadline))?;
    let operation = compiled.operation();
    let answer = match answered {
        Ok(Planned::Answered(body)) => PlanAnswer {
            status: StatusCode::OK,
            body: Bytes::from(body),
            outcome: GraphqlOutcome::ok(operation),
            keep: true,
            read,
        },
        Ok(Planned::Failed(_)) if read.is_replica() => {
            state.metrics.record_plan(false);
            return Ok(None);
        }
        Ok(Planned::Failed(response)) => {
            let outcome = GraphqlOutcome::from_response(&response, operation);
            let (status, body) = graphql_body(media, response, false);
            PlanAnswer {
                status,
                body,
                outcome,
                keep: false,
                read,
            }
        }
        Err(Fallback(why)) => {
            state.metrics.record_plan(false);
            tracing::debug!(why, "a planned request left to the schema");
            return Ok(None);
        }
    };
    state.metrics.record_plan(true);
    Ok(Some(answer))
}

/// The plan `request`'s document compiles to, when the plans do not know it yet, with the
/// text to keep it under once the schema has answered the request without errors.
fn compile_unknown(state: &AppState, request: &mut Request) -> Option<(String, Compiled)> {
    if !request.extensions.is_empty() {
        return None;
    }
    let operation_name = request.operation_name.clone();
    if !matches!(
        state
            .plans
            .lookup(&request.query, operation_name.as_deref()),
        Lookup::Unknown
    ) {
        return None;
    }
    let query = request.query.clone();
    let document = request.parsed_query().ok()?;
    Some((
        query,
        state.plans.compile(document, operation_name.as_deref()),
    ))
}

/// Runs `batch` under the request deadline on the database `state.reads` chooses, and says
/// which one answered. When a replica's connection broke during the request (an error coded
/// `SERVICE_UNAVAILABLE`), the request runs once more on another database, within the same
/// deadline.
async fn execute(
    state: &AppState,
    batch: BatchRequest,
) -> Result<(BatchResponse, ReadTarget), Refusal> {
    let deadline = state.limits.request_timeout();
    let stop_at = tokio::time::Instant::now() + deadline;
    let read = state.reads.choose();
    let again = (read.is_replica()).then(|| copy_batch(&batch));
    let response = run_until(state, batch, &read, stop_at, deadline).await?;
    if let Some(again) = again
        && lost_connection(&response)
        && let Some(other) = state.reads.choose_instead_of(&read)
    {
        tracing::warn!(
            failed = read.name(),
            retry = other.name(),
            "a replica's connection broke during a request: running it again elsewhere"
        );
        let response = run_until(state, again, &other, stop_at, deadline).await?;
        return Ok((response, other));
    }
    Ok((response, read))
}

async fn run_until(
    state: &AppState,
    batch: BatchRequest,
    read: &ReadTarget,
    stop_at: tokio::time::Instant,
    deadline: std::time::Duration,
) -> Result<BatchResponse, Refusal> {
    let batch = with_request_loaders(batch, &read.store);
    tokio::time::timeout_at(stop_at, state.schema.execute_batch(batch))
        .await
        .map_err(|_| past_deadline(deadline))
}

/// What a request stopped at its deadline is told.
fn past_deadline(deadline: std::time::Duration) -> Refusal {
    tracing::warn!(?deadline, "GraphQL request stopped at its deadline");
    Refusal {
        status: StatusCode::GATEWAY_TIMEOUT,
        code: ErrorCode::Timeout,
        message: format!(
            "the request took longer than {} ms and was stopped: ask for less (smaller pages, fewer fields) or try again",
            deadline.as_millis()
        ),
    }
}

/// What a request carried, to run it again (its data, which the HTTP edge adds only in
/// `run_until`, aside).
fn copy_batch(batch: &BatchRequest) -> BatchRequest {
    let copy = |request: &Request| {
        let mut copy = Request::new(request.query.clone()).variables(request.variables.clone());
        copy.operation_name.clone_from(&request.operation_name);
        copy.extensions.clone_from(&request.extensions);
        copy.introspection_mode = request.introspection_mode;
        copy
    };
    match batch {
        BatchRequest::Single(request) => BatchRequest::Single(copy(request)),
        BatchRequest::Batch(requests) => BatchRequest::Batch(requests.iter().map(copy).collect()),
    }
}

/// Whether a response failed because a database could not be reached.
fn lost_connection(response: &BatchResponse) -> bool {
    let unavailable = |response: &async_graphql::Response| {
        response.errors.iter().any(|error| {
            error
                .extensions
                .as_ref()
                .and_then(|extensions| extensions.get("code"))
                == Some(&async_graphql::Value::from(
                    ErrorCode::ServiceUnavailable.as_str(),
                ))
        })
    };
    match response {
        BatchResponse::Single(response) => unavailable(response),
        BatchResponse::Batch(responses) => responses.iter().any(unavailable),
    }
}

/// A request refused before it reaches the schema.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
}

impl Refusal {
    pub(crate) fn bad_request(message: impl Into<String>) -> Refusal {
        Refusal {
            status: StatusCode::BAD_REQUEST,
            code: ErrorCode::BadUserInput,
            message: message.into(),
        }
    }

    fn internal(detail: &str) -> Refusal {
        tracing::error!(detail, "GraphQL request failed");
        Refusal {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: ErrorCode::Internal,
            message: "internal error: the request could not be completed; please try again later"
                .to_owned(),
        }
    }

    /// A GraphQL-shaped body: `errors` only, since nothing executed.
    fn into_response(self, media: MediaType) -> Response {
        let body = json!({
            "errors": [{ "message": self.message, "extensions": { "code": self.code.as_str() } }]
        });
        let mut response = json_response(self.status, media, body.to_string().into());
        GraphqlOutcome::refused(None, self.code.as_str()).attach(&mut response);
        response
    }
}

/// 406: the client accepts neither media type this endpoint speaks.
fn not_acceptable() -> Refusal {
    Refusal {
        status: StatusCode::NOT_ACCEPTABLE,
        code: ErrorCode::BadUserInput,
        message: format!(
            "cannot answer in any media type the Accept header lists: accept {GRAPHQL_RESPONSE_JSON} or {APPLICATION_JSON}"
        ),
    }
}

/// A body over the limit is still read, up to this many times the limit, and thrown away, so
/// that an HTTP/1.1 client still sending it receives the 413 instead of a reset connection.
/// Beyond that the connection is simply closed.
const DRAIN_FACTOR: usize = 8;

/// The request body, at most `limit` bytes of it.
pub(crate) async fn read_body(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
) -> Result<Bytes, Refusal> {
    let too_large = || Refusal {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: ErrorCode::PayloadTooLarge,
        message: format!(
            "the request body is larger than {limit} bytes: send a shorter query, or fewer operations per batch"
        ),
    };
    let unreadable = |error: axum::Error| {
        Refusal::bad_request(format!("the request body could not be read: {error}"))
    };
    let drain_limit = limit.saturating_mul(DRAIN_FACTOR);
    let declared_length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok())
        .and_then(|length| length.parse::<usize>().ok());
    if declared_length.is_some_and(|length| length > drain_limit) {
        return Err(too_large());
    }
    let mut stream = body.into_data_stream();
    let mut collected = Vec::new();
    let mut received = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(unreadable)?;
        received = received.saturating_add(chunk.len());
        if received > drain_limit {
            return Err(too_large());
        }
        if received <= limit {
            collected.extend_from_slice(&chunk);
        }
    }
    if received > limit {
        return Err(too_large());
    }
    Ok(Bytes::from(collected))
}

/// The response media type from `Accept`: the most preferred of the two this endpoint
/// speaks; `application/json` when the client sends none or accepts anything.
fn negotiate(headers: &HeaderMap) -> Result<MediaType, Refusal> {
    let accept: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect();
    if accept.is_empty() {
        return Ok(MediaType::Json);
    }
    let mut best: Option<(f32, u8, MediaType)> = None;
    for range in accept.iter().flat_map(|value| value.split(',')) {
        let mut parts = range.split(';').map(str::trim);
        let essence = parts.next().unwrap_or_default().to_ascii_lowercase();
        let quality = parts
            .filter_map(|parameter| parameter.strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        // Among equally preferred ranges, the named media type wins over a wildcard, and the
        // GraphQL-over-HTTP one over plain JSON.
        let (specificity, media) = match essence.as_str() {
            GRAPHQL_RESPONSE_JSON => (3, MediaType::GraphqlResponseJson),
            APPLICATION_JSON => (2, MediaType::Json),
            "application/*" | "*/*" => (1, MediaType::Json),
            _ => continue,
        };
        if quality <= 0.0 {
            continue;
        }
        if best.is_none_or(|(q, s, _)| quality > q || (quality == q && specificity > s)) {
            best = Some((quality, specificity, media));
        }
    }
    best.map(|(_, _, media)| media).ok_or_else(not_acceptable)
}

/// A POST body must be JSON in UTF-8.
pub(crate) fn check_content_type(headers: &HeaderMap) -> Result<(), Refusal> {
    let unsupported = |message: String| Refusal {
        status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        code: ErrorCode::BadUserInput,
        message,
    };
    let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return Err(unsupported(
            "the request has no Content-Type: POST a JSON body with `Content-Type: application/json`"
                .to_owned(),
        ));
    };
    let mut parts = content_type.split(';').map(str::trim);
    let essence = parts.next().unwrap_or_default().to_ascii_lowercase();
    if essence != APPLICATION_JSON {
        return Err(unsupported(format!(
            "cannot read a `{essence}` body: POST JSON with `Content-Type: application/json`"
        )));
    }
    for parameter in parts {
        if let Some((name, value)) = parameter.split_once('=')
            && name.trim().eq_ignore_ascii_case("charset")
        {
            let charset = value.trim().trim_matches('"');
            if !charset.eq_ignore_ascii_case("utf-8") {
                return Err(unsupported(format!(
                    "cannot read a body in charset `{charset}`: send UTF-8"
                )));
            }
        }
    }
    Ok(())
}

/// The body as one request or a batch, or why it is not a GraphQL-over-HTTP request.
pub(crate) fn read_batch(bytes: &Bytes, max_batch: usize) -> Result<BatchRequest, Refusal> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Refusal::bad_request(
            "the request body is empty: POST a JSON object such as {\"query\": \"{ releases { totalCount } }\"}",
        ));
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|error| {
        Refusal::bad_request(format!(
            "the request body is not valid UTF-8 JSON ({error}): POST a JSON object such as {{\"query\": \"{{ releases {{ totalCount }} }}\"}}"
        ))
    })?;
    match value {
        Value::Array(items) => {
            if items.is_empty() {
                return Err(Refusal::bad_request(
                    "the batch is empty: send at least one request in the array",
                ));
            }
            if items.len() > max_batch {
                return Err(Refusal {
                    status: StatusCode::BAD_REQUEST,
                    code: ErrorCode::BatchTooLarge,
                    message: format!(
                        "the batch holds {} operations: send at most {max_batch} per request",
                        items.len()
                    ),
                });
            }
            items
                .into_iter()
                .enumerate()
                .map(|(index, item)| read_request(item, &format!("request {index} of the batch")))
                .collect::<Result<Vec<_>, _>>()
                .map(BatchRequest::Batch)
        }
        value => read_request(value, "the request").map(BatchRequest::Single),
    }
}

fn read_request(value: Value, what: &str) -> Result<Request, Refusal> {
    let Value::Object(fields) = &value else {
        return Err(Refusal::bad_request(format!(
            "{what} is not a JSON object: send {{\"query\": …, \"variables\": {{…}}}}"
        )));
    };
    let has_query = matches!(fields.get("query"), Some(Value::String(_)));
    let persisted = fields
        .get("extensions")
        .and_then(|extensions| extensions.get("persistedQuery"))
        .is_some();
    if !has_query && !persisted {
        return Err(Refusal::bad_request(format!(
            "{what} has no `query` string: put the GraphQL document in `query`"
        )));
    }
    serde_json::from_value(value).map_err(|error| {
        Refusal::bad_request(format!(
            "{what} is malformed ({error}): `query` and `operationName` are strings, `variables` and `extensions` objects"
        ))
    })
}

/// Refuses documents longer than the limit before anything parses them.
pub(crate) fn check_document(request: &Request, state: &AppState) -> Result<(), Refusal> {
    let limit = state.limits.max_document_bytes;
    if request.query.len() > limit {
        return Err(Refusal {
            status: StatusCode::BAD_REQUEST,
            code: ErrorCode::DocumentTooLarge,
            message: format!(
                "the query is {} bytes long: send at most {limit}, e.g. by splitting it, or by using fragments instead of repeated fields",
                request.query.len()
            ),
        });
    }
    Ok(())
}

/// The status and JSON body for a response the schema produced. A response whose errors all
/// came before execution (no error has a `path`) is a request error: it has no `data`, and
/// `application/graphql-response+json` answers it with 400. Any other response is written
/// straight to bytes, its fields in the order the query selects them.
fn graphql_body(
    media: MediaType,
    mut response: async_graphql::Response,
    report_cost: bool,
) -> (StatusCode, Bytes) {
    if !report_cost {
        response.extensions.remove(COST_EXTENSION);
    }
    let request_error = !response.errors.is_empty()
        && response.data == async_graphql::Value::Null
        && response.errors.iter().all(|error| error.path.is_empty());
    let encoded = if request_error {
        serde_json::to_value(&response).and_then(|mut body| {
            if let Value::Object(fields) = &mut body {
                fields.remove("data");
            }
            serde_json::to_vec(&body)
        })
    } else {
        serde_json::to_vec(&response)
    };
    let body = encoded.unwrap_or_else(|error| {
        tracing::error!(%error, "cannot serialise a GraphQL response");
        json!({ "errors": [{ "message": "internal error: the response could not be encoded", "extensions": { "code": ErrorCode::Internal.as_str() } }] })
            .to_string()
            .into_bytes()
    });
    let status = if request_error && media == MediaType::GraphqlResponseJson {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    (status, body.into())
}

fn json_response(status: StatusCode, media: MediaType, body: Bytes) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, media.content_type());
    response
}

/// Whether the operation the request would run is a query. Documents that do not parse, or do
/// not say which operation to run, count as queries: execution reports their problem properly.
/// So does a persisted query by hash: the stored document is checked when it runs.
fn is_query_operation(request: &mut Request) -> bool {
    operation_type(request).is_none_or(|ty| ty == OperationType::Query)
}

/// The type of the operation the request would run, when the document parses and says which.
pub(crate) fn operation_type(request: &mut Request) -> Option<OperationType> {
    if request.query.is_empty() {
        return None;
    }
    let operation_name = request.operation_name.clone();
    let document = request.parsed_query().ok()?;
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => Some(operation.node.ty),
        (DocumentOperations::Multiple(operations), Some(name)) => operations
            .iter()
            .find(|(operation, _)| operation.as_str() == name)
            .map(|(_, operation)| operation.node.ty),
        (DocumentOperations::Multiple(_), None) => None,
    }
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

fn wants_cost(headers: &HeaderMap) -> bool {
    headers
        .get(REPORT_COST_HEADER)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| !matches!(value.trim(), "" | "0" | "false"))
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};

    use super::{MediaType, negotiate};

    fn accept(value: &str) -> Option<MediaType> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_str(value).unwrap_or_else(|e| panic!("{e}")),
        );
        negotiate(&headers).ok()
    }

    #[test]
    fn the_preferred_supported_media_type_is_chosen() {
        assert_eq!(negotiate(&HeaderMap::new()).ok(), Some(MediaType::Json));
        assert_eq!(accept("*/*"), Some(MediaType::Json));
        assert_eq!(accept("application/json"), Some(MediaType::Json));
        assert_eq!(
            accept("application/graphql-response+json, application/json;q=0.9"),
            Some(MediaType::GraphqlResponseJson)
        );
        assert_eq!(
            accept("application/graphql-response+json;q=0.5, application/json"),
            Some(MediaType::Json)
        );
        assert_eq!(
            accept("application/graphql-response+json, */*"),
            Some(MediaType::GraphqlResponseJson)
        );
        assert_eq!(accept("text/html, application/json;q=0"), None);
        assert_eq!(accept("application/xml"), None);
    }
}
