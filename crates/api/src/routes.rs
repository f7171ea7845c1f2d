//! The HTTP surface: GraphQL over POST (and GET, for queries), the GraphiQL playground, the
//! printed schema, liveness and readiness probes, and `/` leading to the playground.

use std::sync::LazyLock;
use std::time::Duration;

use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde_json::json;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::error::BAD_USER_INPUT;
use crate::state::AppState;

/// Where the GraphQL endpoint and the playground live.
pub const GRAPHQL_PATH: &str = "/graphql";

/// A request still running after this long is answered with 408 and abandoned.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// `/readyz` reports the database unreachable when a ping takes longer than this.
const READINESS_TIMEOUT: Duration = Duration::from_secs(3);

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

/// The application's routes over `state`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::temporary(GRAPHQL_PATH) }))
        .route(GRAPHQL_PATH, get(graphql_get).post(graphql_post))
        .route("/schema.graphql", get(schema_sdl))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

async fn graphql_post(State(state): State<AppState>, request: GraphQLRequest) -> GraphQLResponse {
    state.schema.execute(request.into_inner()).await.into()
}

/// A GET with a `query` parameter is a GraphQL query; one without is someone opening the
/// endpoint, who gets the playground if they accept HTML and directions otherwise.
async fn graphql_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query_string): RawQuery,
) -> Response {
    let mut request = match async_graphql::http::parse_query_string(
        query_string.as_deref().unwrap_or_default(),
    ) {
        Ok(request) => request,
        Err(error) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                &format!(
                    "cannot read the request from the URL ({error}): pass `query`, and `variables` as URL-encoded JSON"
                ),
            );
        }
    };
    if request.query.trim().is_empty() {
        if accepts_html(&headers) {
            return Html(PLAYGROUND.as_str()).into_response();
        }
        return request_error(
            StatusCode::BAD_REQUEST,
            "no query: send GET /graphql?query=… or POST a JSON body {\"query\": …}",
        );
    }
    if !is_query_operation(&mut request) {
        // A GET may be repeated or prefetched by anything on the way, so it must not change data.
        let mut response = request_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "only queries can be sent with GET: send mutations and subscriptions with POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
        return response;
    }
    GraphQLResponse::from(state.schema.execute(request).await).into_response()
}

/// Whether the operation the request would run is a query. Documents that do not parse, or do
/// not say which operation to run, count as queries: execution reports their problem properly.
fn is_query_operation(request: &mut async_graphql::Request) -> bool {
    let operation_name = request.operation_name.clone();
    let Ok(document) = request.parsed_query() else {
        return true;
    };
    let operation_type = match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => Some(operation.node.ty),
        (DocumentOperations::Multiple(operations), Some(name)) => operations
            .iter()
            .find(|(operation, _)| operation.as_str() == name)
            .map(|(_, operation)| operation.node.ty),
        (DocumentOperations::Multiple(_), None) => None,
    };
    operation_type.is_none_or(|ty| ty == OperationType::Query)
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// A GraphQL-shaped error response for requests that never reach the schema.
fn request_error(status: StatusCode, message: &str) -> Response {
    let body =
        json!({ "errors": [{ "message": message, "extensions": { "code": BAD_USER_INPUT } }] });
    (status, axum::Json(body)).into_response()
}

/// GraphiQL, opened on `EXAMPLE_QUERY`. GraphiQL and React are loaded by the browser from the
/// unpkg.com CDN (async-graphql's template); the server ships no JavaScript of its own.
static PLAYGROUND: LazyLock<String> = LazyLock::new(|| {
    let page = GraphiQLSource::build()
        .endpoint(GRAPHQL_PATH)
        .title("ILO China and Mongolia press releases · GraphQL")
        .finish();
    // GraphiQLSource has no option for the initial query, so it is added to the props the
    // template passes to GraphiQL. As JSON it is a valid JS string literal; `<` is escaped so
    // the text can never close the surrounding <script>.
    let example = serde_json::to_string(EXAMPLE_QUERY)
        .unwrap_or_default()
        .replace('<', "\\u003c");
    page.replacen(
        "defaultEditorToolsVisibility: true,",
        &format!("defaultEditorToolsVisibility: true,\n          defaultQuery: {example},"),
        1,
    )
});

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

/// Readiness: the database answers. Load balancers stop sending traffic on 503.
async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match tokio::time::timeout(READINESS_TIMEOUT, state.db.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready"),
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
        Err(_) => {
            tracing::warn!(timeout = ?READINESS_TIMEOUT, "readiness check: database did not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "database did not answer in time",
            )
        }
    }
}
