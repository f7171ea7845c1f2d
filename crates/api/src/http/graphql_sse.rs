//! GraphQL over Server-Sent Events on `/graphql`, in the `graphql-sse` protocol's distinct
//! connections mode: a request that accepts `text/event-stream` (GET with the query in the URL,
//! or POST with a JSON body) is answered with a stream of `next` events, one per result, and a
//! `complete` event at its end. It passes where proxies refuse WebSocket upgrades, and a
//! browser page of the same origin can open it with `fetch`.
//!
//! The request is read and checked as any GraphQL request (`graphql_http`: body and document
//! limits, JSON); what is wrong with it is reported, as the protocol asks, in a `next` event of
//! an accepted stream. The exceptions are the two refusals that are not about the request: a
//! page of an origin that may not subscribe (403, FORBIDDEN_ORIGIN) and a server at its cap on
//! subscription connections (503, TOO_MANY_CONNECTIONS). The stream carries a comment line
//! every keep-alive interval, ends when the server stops, and a client cut off for reading too
//! slowly gets a `next` event with SLOW_CONSUMER and `complete`; if it does not read even that
//! within a few seconds, its connection is closed.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::BatchRequest;
use async_graphql::http::parse_query_string;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::stream::{self, BoxStream};
use futures::{StreamExt, future};
use serde_json::json;

use crate::error::ErrorCode;
use crate::http::graphql_http::{
    Refusal, check_content_type, check_document, read_batch, read_body,
};
use crate::http::graphql_ws::{forbidden_origin, origin_allowed};
use crate::http::server::ClientConnection;
use crate::http::state::AppState;
use crate::live::Cutoff;
use crate::schema::loaders::subscription_data_loader;

/// The media type of an event stream.
pub const EVENT_STREAM: &str = "text/event-stream";

/// How long a client cut off for reading too slowly has to read the error event before its
/// connection is closed.
const CUTOFF_GRACE: Duration = Duration::from_secs(10);

/// Whether the request asks for an event stream.
pub fn wants_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|range| {
            let mut parts = range.split(';').map(str::trim);
            parts
                .next()
                .is_some_and(|essence| essence.eq_ignore_ascii_case(EVENT_STREAM))
                && !parts.any(|parameter| {
                    parameter
                        .strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                        .is_some_and(|q| q <= 0.0)
                })
        })
}

/// POST /graphql with `Accept: text/event-stream`.
pub async fn post(
    state: AppState,
    headers: HeaderMap,
    body: Body,
    client: Option<Arc<ClientConnection>>,
) -> Response {
    let request = async {
        check_content_type(&headers)?;
        let bytes = read_body(body, &headers, state.limits.max_body_bytes).await?;
        match read_batch(&bytes, state.limits.max_batch)? {
            BatchRequest::Single(request) => Ok(request),
            BatchRequest::Batch(_) => Err(Refusal::bad_request(
                "an event stream carries one operation: send a JSON object, not an array",
            )),
        }
    };
    stream_response(&state, &headers, client, request.await)
}

/// GET /graphql?query=… with `Accept: text/event-stream`.
pub async fn get(
    state: AppState,
    headers: HeaderMap,
    query_string: Option<String>,
    client: Option<Arc<ClientConnection>>,
) -> Response {
    let request = parse_query_string(&query_string.unwrap_or_default()).map_err(|error| {
        Refusal::bad_request(format!(
            "cannot read the request from the URL ({error}): pass `query`, and `variables` as URL-encoded JSON"
        ))
    });
    stream_response(&state, &headers, client, request)
}

fn stream_response(
    state: &AppState,
    headers: &HeaderMap,
    client: Option<Arc<ClientConnection>>,
    request: Result<async_graphql::Request, Refusal>,
) -> Response {
    if !origin_allowed(headers, &state.cors_origins) {
        return forbidden_origin();
    }
    let Ok(permit) = Arc::clone(&state.subscription_connections).try_acquire_owned() else {
        return too_many_connections(state.subscription_limits.max_subscription_connections);
    };
    let request = request.and_then(|request| {
        check_document(&request, state)?;
        if request.query.trim().is_empty() {
            return Err(Refusal::bad_request(
                "no query: put the GraphQL document in `query`",
            ));
        }
        Ok(request)
    });
    let results: BoxStream<'static, String> = match request {
        Err(refusal) => stream::once(future::ready(refusal_json(&refusal))).boxed(),
        Ok(request) => {
            let cutoff = Cutoff::default();
            let request = request
                .data(subscription_data_loader(state.store.clone()))
                .data(cutoff.clone());
            let (done, finished) = tokio::sync::oneshot::channel::<()>();
            if let Some(client) = client {
                tokio::spawn(close_if_cut_off(cutoff, client, finished));
            }
            let mut stopping = state.stopping.subscribe();
            let stopped = async move {
                let _ = stopping.wait_for(|stopping| *stopping).await;
            };
            state
                .schema
                .execute_stream(request)
                .map(move |response| {
                    // Held as long as the stream: it ends the watchdog when dropped.
                    let _done = &done;
                    serde_json::to_string(&response).unwrap_or_else(|error| {
                        tracing::error!(%error, "cannot serialise a GraphQL response");
                        internal_error_json()
                    })
                })
                .take_until(stopped)
                .boxed()
        }
    };
    let events = results
        .map(move |data| {
            // Held as long as the stream: its place under the cap on subscription connections.
            let _permit = &permit;
            Event::default().event("next").data(data)
        })
        .chain(stream::once(future::ready(
            Event::default().event("complete").data(""),
        )))
        .map(Ok::<_, Infallible>);
    let mut response = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(state.subscription_limits.keepalive_interval()))
        .into_response();
    // Proxies that buffer responses (nginx) would hold the events back.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// Closes the connection of a client cut off by the hub that has not read its error event
/// within the grace period; ends early when the stream ends first.
async fn close_if_cut_off(
    cutoff: Cutoff,
    client: Arc<ClientConnection>,
    finished: tokio::sync::oneshot::Receiver<()>,
) {
    tokio::select! {
        _ = cutoff.triggered() => {}
        _ = finished => return,
    }
    tokio::time::sleep(CUTOFF_GRACE).await;
    client.abort();
}

fn refusal_json(refusal: &Refusal) -> String {
    json!({ "errors": [{ "message": refusal.message, "extensions": { "code": refusal.code.as_str() } }] })
        .to_string()
}

fn internal_error_json() -> String {
    json!({ "errors": [{ "message": "internal error: the response could not be encoded", "extensions": { "code": ErrorCode::Internal.as_str() } }] })
        .to_string()
}

/// 503: the server holds as many subscription connections as it may.
fn too_many_connections(limit: u32) -> Response {
    let body = json!({ "errors": [{
        "message": format!("the server holds {limit} subscription connections, its limit: retry later"),
        "extensions": { "code": ErrorCode::TooManyConnections.as_str() },
    }]});
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            (header::RETRY_AFTER, "1"),
        ],
        body.to_string(),
    )
        .into_response()
}
