//! The routes of the HTML pages (`/releases/<slug>`, `/programmes/<slug>`, `/offices/<slug>`)
//! and the 404 page every unknown address gets. The pages themselves are `site::pages`; this
//! adds the base of their links, validators and status codes.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::{ApiError, ErrorCode, chain, lost_connection};
use crate::http::document::Document;
use crate::http::public_url::base_url;
use crate::http::state::AppState;
use crate::site::links::Links;
use crate::site::pages::{self, Page, PageError};
use crate::store::Store;

const HTML: &str = "text/html; charset=utf-8";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/releases/{slug}", get(release))
        .route("/programmes/{slug}", get(programme))
        .route("/offices/{slug}", get(office))
}

async fn release(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let links = links(&state, &headers);
    let (links, slug) = (&links, &slug);
    let page = state
        .reads
        .read(
            |store: Store| async move { pages::release_page(&store, links, slug).await },
            |error| lost_connection(error),
        )
        .await;
    respond(page, &uri, &headers)
}

async fn programme(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let links = links(&state, &headers);
    let (links, slug) = (&links, &slug);
    let page = state
        .reads
        .read(
            |store: Store| async move { pages::programme_page(&store, links, slug).await },
            |error| lost_connection(error),
        )
        .await;
    respond(page, &uri, &headers)
}

async fn office(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let links = links(&state, &headers);
    let (links, slug) = (&links, &slug);
    let page = state
        .reads
        .read(
            |store: Store| async move { pages::office_page(&store, links, slug).await },
            |error| lost_connection(error),
        )
        .await;
    respond(page, &uri, &headers)
}

/// Every address no route claims: a page that says so, with status 404.
pub async fn not_found(uri: Uri) -> Response {
    not_found_response(&uri)
}

/// The 404 page for `uri`.
pub fn not_found_response(uri: &Uri) -> Response {
    match pages::not_found_page(uri.path()) {
        Ok(html) => (
            StatusCode::NOT_FOUND,
            [(axum::http::header::CONTENT_TYPE, HTML)],
            html,
        )
            .into_response(),
        Err(error) => failed(&error),
    }
}

fn links(state: &AppState, headers: &HeaderMap) -> Links {
    Links::new(base_url(state.public_url.as_deref(), headers))
}

fn respond(page: Result<Option<Page>, PageError>, uri: &Uri, headers: &HeaderMap) -> Response {
    match page {
        Ok(Some(page)) => Document::ok(HTML, page.html)
            .last_modified(page.last_modified)
            .respond(headers),
        Ok(None) => not_found_response(uri),
        Err(error) => failed(&error),
    }
}

/// A page that could not be made: 503 when the database is down or slow (retrying may work),
/// 500 otherwise; the details go to the log only.
fn failed(error: &PageError) -> Response {
    let status = match error {
        PageError::Store(store) => match ApiError::from(store.clone()).code() {
            ErrorCode::ServiceUnavailable | ErrorCode::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        },
        PageError::Render(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    tracing::error!(error = %chain(error), "page failed");
    let html =
        pages::unavailable_page().unwrap_or_else(|_| "The archive is unavailable.".to_owned());
    Document::ok(HTML, html)
        .status(status)
        .respond(&HeaderMap::new())
}
