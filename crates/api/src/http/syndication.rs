//! The feeds, the sitemap and `robots.txt` over HTTP: each GET renders its document from
//! `site/` with links from the public base URL, and serves it as a `Document` (strong `ETag`,
//! `Last-Modified` from its newest change, 304 to a current copy). A query string a document
//! does not take gets 400 with a plain-text message naming the parameter; a database failure
//! 503, 504 or 500 with the details only in the log.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use uuid::Uuid;

use crate::error::{ApiError, ErrorCode, chain, lost_connection};
use crate::http::document::Document;
use crate::http::public_url::base_url;
use crate::http::state::AppState;
use crate::site::feed_query::{FeedQuery, FeedQueryError};
use crate::site::feeds::{Feed, FeedFormat};
use crate::site::links::Links;
use crate::site::query::{Parameters, QueryError};
use crate::site::sitemap::{
    CATALOGUE_PATH, INDEX_PATH, RELEASES_PATH, ROBOTS_PATH, START, Sitemap, SitemapError, robots,
};
use crate::store::{Store, StoreError};

const TEXT: &str = "text/plain; charset=utf-8";
const XML: &str = "application/xml";

/// The feeds', the sitemap's and `robots.txt`'s routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(FeedFormat::Atom.path(), get(atom))
        .route(FeedFormat::Rss.path(), get(rss))
        .route(FeedFormat::JsonFeed.path(), get(json_feed))
        .route(INDEX_PATH, get(sitemap_index))
        .route(CATALOGUE_PATH, get(sitemap_catalogue))
        .route(RELEASES_PATH, get(sitemap_releases))
        .route(ROBOTS_PATH, get(robots_txt))
}

/// Why a request gets no document.
#[derive(Debug)]
enum Failure {
    /// 400: the message says what to fix.
    BadRequest(QueryError),
    /// 404: the message says where to look instead.
    NotFound(String),
    /// The database failed, or a bug: the client is told only what it can act on.
    Archive(ApiError),
    /// A document could not be written: a bug.
    Render(String),
}

impl Failure {
    fn respond(self, request: &HeaderMap) -> Response {
        let (status, message) = match self {
            Failure::BadRequest(error) => (StatusCode::BAD_REQUEST, error.to_string()),
            Failure::NotFound(message) => (StatusCode::NOT_FOUND, message),
            Failure::Archive(error) => archive_failure(&error),
            Failure::Render(detail) => {
                tracing::error!(detail, "cannot write a document");
                (StatusCode::INTERNAL_SERVER_ERROR, INTERNAL.to_owned())
            }
        };
        Document::ok(TEXT, format!("{message}\n"))
            .status(status)
            .respond(request)
    }
}

const INTERNAL: &str = "internal error: the document could not be made; please try again later";

/// The status and message of a failed read, logged with its causes.
fn archive_failure(error: &ApiError) -> (StatusCode, String) {
    let detail = chain(error);
    match error.code() {
        ErrorCode::ServiceUnavailable => {
            tracing::warn!(detail, "document request failed: database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the archive's database is unavailable: try again in a few seconds".to_owned(),
            )
        }
        ErrorCode::Timeout => {
            tracing::warn!(detail, "document request failed: deadline");
            (
                StatusCode::GATEWAY_TIMEOUT,
                "the request took too long and was stopped: try again later".to_owned(),
            )
        }
        ErrorCode::BadUserInput => (StatusCode::BAD_REQUEST, error.to_string()),
        _ => {
            tracing::error!(detail, "document request failed");
            (StatusCode::INTERNAL_SERVER_ERROR, INTERNAL.to_owned())
        }
    }
}

impl From<FeedQueryError> for Failure {
    fn from(error: FeedQueryError) -> Failure {
        match error {
            FeedQueryError::Query(error) => Failure::BadRequest(error),
            FeedQueryError::Archive(error) => Failure::Archive(error),
        }
    }
}

impl From<SitemapError> for Failure {
    fn from(error: SitemapError) -> Failure {
        match error {
            SitemapError::Store(error) => Failure::Archive(ApiError::from(error)),
            other => Failure::Render(chain(&other)),
        }
    }
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Failure {
        Failure::Archive(ApiError::from(error))
    }
}

fn links(state: &AppState, headers: &HeaderMap) -> Links {
    Links::new(base_url(state.public_url.as_deref(), headers))
}

/// The document made, or the failure's plain-text answer.
fn serve(made: Result<Document, Failure>, headers: &HeaderMap) -> Response {
    match made {
        Ok(document) => document.respond(headers),
        Err(failure) => failure.respond(headers),
    }
}

async fn feed(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<&str>,
    format: FeedFormat,
) -> Result<Document, Failure> {
    let query = FeedQuery::parse(query).map_err(Failure::BadRequest)?;
    let links = links(state, headers);
    let feed = state
        .reads
        .read(
            |store: Store| {
                let (links, query) = (links.clone(), &query);
                async move { Feed::read(&store, links, format, query).await }
            },
            |error| lost_connection(error),
        )
        .await?;
    let body = feed
        .render()
        .map_err(|error| Failure::Render(chain(&error)))?;
    Ok(Document::ok(format.content_type(), body).last_modified(feed.updated()))
}

/// `GET /feeds/releases.atom`.
async fn atom(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let made = feed(&state, &headers, query.as_deref(), FeedFormat::Atom).await;
    serve(made, &headers)
}

/// `GET /feeds/releases.rss`.
async fn rss(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let made = feed(&state, &headers, query.as_deref(), FeedFormat::Rss).await;
    serve(made, &headers)
}

/// `GET /feeds/releases.json`.
async fn json_feed(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let made = feed(&state, &headers, query.as_deref(), FeedFormat::JsonFeed).await;
    serve(made, &headers)
}

/// `GET /sitemap.xml`: the index.
async fn sitemap_index(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let made = async {
        let links = links(&state, &headers);
        let index = state
            .reads
            .read(
                |store: Store| {
                    let (sitemap, links) = (state.sitemap, &links);
                    async move { sitemap.index(&store, links).await }
                },
                |error| lost_connection(error),
            )
            .await?;
        Ok(Document::ok(XML, index.body).last_modified(index.last_modified))
    }
    .await;
    serve(made, &headers)
}

/// `GET /sitemap-catalogue.xml`: the home page, the programmes' and the offices' pages.
async fn sitemap_catalogue(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let made = async {
        let links = links(&state, &headers);
        let page = state
            .reads
            .read(
                |store: Store| {
                    let links = &links;
                    async move { Sitemap::catalogue(&store, links).await }
                },
                |error| lost_connection(error),
            )
            .await?;
        Ok(Document::ok(XML, page.body))
    }
    .await;
    serve(made, &headers)
}

/// `GET /sitemap-releases.xml[?start=<id>]`: one page of releases.
async fn sitemap_releases(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let made = async {
        let start = releases_page_start(query.as_deref()).map_err(Failure::BadRequest)?;
        let links = links(&state, &headers);
        let page = state
            .reads
            .read(
                |store: Store| {
                    let (sitemap, links) = (state.sitemap, &links);
                    async move { sitemap.releases(&store, links, start).await }
                },
                |error| lost_connection(error),
            )
            .await?;
        match page {
            Some(page) => Ok(Document::ok(XML, page.body).last_modified(page.last_modified)),
            None => Err(Failure::NotFound(match start {
                Some(start) => format!(
                    "no sitemap page starts at release {start}: read {INDEX_PATH} for the current pages"
                ),
                None => format!("the archive has no releases yet: {INDEX_PATH} lists no releases page"),
            })),
        }
    }
    .await;
    serve(made, &headers)
}

/// The first release of the requested page: `start`, or none for the first page.
fn releases_page_start(query: Option<&str>) -> Result<Option<Uuid>, QueryError> {
    let parameters = Parameters::parse(
        query,
        &[START],
        "a sitemap page takes only start, the id of its first release, as /sitemap.xml lists it",
    )?;
    parameters
        .one(START)?
        .map(|value| {
            Uuid::parse_str(&value).map_err(|_| QueryError::Malformed {
                parameter: START,
                value,
                expected: "a release id: use the page addresses /sitemap.xml lists",
            })
        })
        .transpose()
}

/// `GET /robots.txt`.
async fn robots_txt(State(state): State<AppState>, headers: HeaderMap) -> Response {
    Document::ok(TEXT, robots(&links(&state, &headers))).respond(&headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_releases_page_is_named_by_a_release_id() {
        assert_eq!(releases_page_start(None), Ok(None));
        assert_eq!(
            releases_page_start(Some("start=00000000-0000-0000-0000-000000000000")),
            Ok(Some(Uuid::nil()))
        );
        assert_eq!(
            releases_page_start(Some("start=2")).map_err(|e| e.to_string()),
            Err(
                "`start`: \"2\" is not a release id: use the page addresses /sitemap.xml lists"
                    .to_owned()
            )
        );
        assert!(matches!(
            releases_page_start(Some("page=2")),
            Err(QueryError::UnknownParameter { .. })
        ));
    }
}
