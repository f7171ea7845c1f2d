//! The HTTP surface: GraphQL over POST (and GET, for queries), the GraphiQL playground, the
//! printed schema, liveness and readiness probes, and the explorer on `/` (see `assets`).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{FromRequestParts, RawQuery, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{from_fn_with_state, map_request};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;

use crate::http::graphql_http::{GRAPHQL_PATH, REPORT_COST_HEADER, graphql_get, graphql_post};
use crate::http::request_log;
use crate::http::response_cache::ResponseCache;
use crate::http::server::ClientConnection;
use crate::http::state::AppState;
use crate::http::{graphql_sse, graphql_ws};
use crate::ops::metrics::{self, LiveUsage, METRICS_PATH};

/// A request still running after this long is answered with 408 and abandoned.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// `/readyz` reports the database unreachable when a ping takes longer than this.
const READINESS_TIMEOUT: Duration = Duration::from_secs(3);

/// The application's routes over `state`.
pub fn router(state: AppState) -> Router {
    let cors = cors(&state.cors_origins);
    let app = Router::new()
        .merge(crate::http::assets::router())
        .merge(crate::http::syndication::router())
        .merge(crate::http::pages::router())
        .route(
            GRAPHQL_PATH,
            get(graphql_get_route).post(graphql_post_route),
        )
        .route("/schema.graphql", get(schema_sdl))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route(METRICS_PATH, get(serve_metrics))
        .fallback(crate::http::pages::not_found)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(CompressionLayer::new())
        // Outermost, so that every response is counted and logged as the client gets it, and
        // carries the request id: an unusable client id is dropped, a missing one generated,
        // the id echoed in the response, then the request logged once inside its span.
        .layer(from_fn_with_state(
            state.metrics.clone(),
            request_log::log_request,
        ))
        .layer(PropagateRequestIdLayer::new(request_log::REQUEST_ID_HEADER))
        .layer(SetRequestIdLayer::new(
            request_log::REQUEST_ID_HEADER,
            MakeRequestUuid,
        ))
        .layer(map_request(request_log::drop_unusable_request_id))
        .with_state(state);
    match cors {
        // Outside everything else, so preflight requests are answered before any handler.
        Some(cors) => app.layer(cors),
        None => app,
    }
}

/// CORS for the configured origins: GET and POST with JSON, and the headers a GraphQL client
/// sends. Without origins, no CORS headers at all, so browsers keep other sites out.
fn cors(origins: &[HeaderValue]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins.iter().cloned()))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::CONTENT_TYPE,
                header::ACCEPT,
                header::IF_NONE_MATCH,
                HeaderName::from_static(REPORT_COST_HEADER),
                request_log::REQUEST_ID_HEADER,
            ])
            .expose_headers([header::ETAG, request_log::REQUEST_ID_HEADER])
            .max_age(Duration::from_secs(3600)),
    )
}

/// `GET /graphql`: a WebSocket upgrade, an event stream, or a query (or the playground).
async fn graphql_get_route(State(state): State<AppState>, request: Request) -> Response {
    let (mut parts, _body) = request.into_parts();
    let client = parts.extensions.get::<Arc<ClientConnection>>().cloned();
    if graphql_ws::is_upgrade(&parts.headers) {
        return match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
            Ok(upgrade) => graphql_ws::upgrade(state, &parts.headers, upgrade, client),
            Err(rejection) => rejection.into_response(),
        };
    }
    let query = parts.uri.query().map(str::to_owned);
    if graphql_sse::wants_event_stream(&parts.headers) {
        return graphql_sse::get(state, parts.headers, query, client).await;
    }
    graphql_get(State(state), parts.headers, RawQuery(query)).await
}

/// `POST /graphql`: an event stream, or a request (or batch) answered at once.
async fn graphql_post_route(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if graphql_sse::wants_event_stream(&parts.headers) {
        let client = parts.extensions.get::<Arc<ClientConnection>>().cloned();
        return graphql_sse::post(state, parts.headers, body, client).await;
    }
    graphql_post(State(state), parts.headers, body).await
}

/// `GET /metrics`.
async fn serve_metrics(State(state): State<AppState>) -> Response {
    let cache = state.response_cache.as_ref().map(ResponseCache::usage);
    let max_connections = state.subscription_limits.max_subscription_connections;
    let free = state.subscription_connections.available_permits();
    let live = LiveUsage {
        subscriptions: u64::try_from(state.live.subscriptions()).unwrap_or(u64::MAX),
        connections: u64::from(max_connections).saturating_sub(u64::try_from(free).unwrap_or(0)),
        max_connections: u64::from(max_connections),
    };
    let reads = state.reads.choose();
    let databases = state.reads.status();
    let body = state
        .metrics
        .render(&state.db, reads.store.db(), &databases, cache, live)
        .await;
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        body,
    )
        .into_response()
}

async fn schema_sdl(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        state.schema.sdl(),
    )
}

/// Liveness: the process is up and serving HTTP.
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: a database that can serve reads answers (the primary, or a replica in rotation).
/// Load balancers stop sending traffic on 503. The body says, as JSON, which databases are up
/// and which replicas are in rotation (with their lag, or why not).
async fn readyz(State(state): State<AppState>) -> Response {
    let primary_up = match tokio::time::timeout(READINESS_TIMEOUT, state.db.ping()).await {
        Ok(Ok(())) => true,
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness check: the primary database is unreachable");
            false
        }
        Err(_) => {
            tracing::warn!(timeout = ?READINESS_TIMEOUT, "readiness check: the primary database did not answer");
            false
        }
    };
    let mut databases = state.reads.status();
    if let Some(primary) = databases.first_mut() {
        primary.up = primary_up;
    }
    let ready = primary_up || state.reads.any_replica_in_rotation();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "status": if ready { "ready" } else { "no database can serve reads" },
        "databases": databases,
    });
    (status, axum::Json(body)).into_response()
}
