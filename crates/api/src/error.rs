//! What can go wrong: `ApiError` for one GraphQL request (each variant maps to an
//! `extensions.code` and a message that says what to fix), `StartupError` for bringing the
//! server up.

use std::net::SocketAddr;

use chrono::NaiveDate;
use sea_orm::DbErr;

use crate::schema::connection::MAX_PAGE_SIZE;
use crate::schema::related::{MAX_RELATED, MIN_RELATED};

/// `extensions.code` of errors the client can fix by changing the request.
pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
/// `extensions.code` of errors the client cannot fix; details are only in the server log.
pub const INTERNAL: &str = "INTERNAL";

/// Why a GraphQL request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("unknown {kind} \"{slug}\" in the filter: {hint}")]
    UnknownSlug {
        kind: &'static str,
        slug: String,
        hint: String,
    },
    #[error(
        "publishedFrom ({from}) is after publishedTo ({to}): swap them, or leave one out for an open-ended range"
    )]
    ReversedDateRange { from: NaiveDate, to: NaiveDate },
    #[error("month needs a year: add `year` to the filter, e.g. {{ year: 2021, month: 6 }}")]
    MonthWithoutYear,
    #[error("month {0} does not exist: use 1 (January) to 12 (December)")]
    MonthOutOfRange(i32),
    #[error("year {0} is out of range: use a year from 1 to 9999")]
    YearOutOfRange(i32),
    #[error(
        "`first` and `last` cannot be used together: page forward with `first` (and `after`), or backward with `last` (and `before`)"
    )]
    FirstAndLast,
    #[error(
        "`{argument}` is {value}: ask for 0 to {MAX_PAGE_SIZE} releases per page, and follow `pageInfo` for more"
    )]
    PageSizeOutOfRange { argument: &'static str, value: i32 },
    #[error("`first` is {0}: ask for {MIN_RELATED} to {MAX_RELATED} related releases")]
    RelatedCountOutOfRange(i32),
    #[error(
        "malformed cursor in `{argument}`: pass an edge's `cursor` or `pageInfo.startCursor`/`endCursor` exactly as received"
    )]
    MalformedCursor { argument: &'static str },
    #[error(
        "the cursor in `{argument}` comes from a list in a different order: page with cursors from the same `orderBy`, or start again without `{argument}`"
    )]
    CursorFromOtherOrder { argument: &'static str },
    #[error(
        "orderBy RELEVANCE needs a search: add `search` to the filter, or order by NEWEST_FIRST or OLDEST_FIRST"
    )]
    RelevanceWithoutSearch,
    #[error("the search is {length} characters long: use at most {max}")]
    SearchTooLong { length: usize, max: usize },
    #[error("malformed id: pass the `id` of a Release, Programme or Office exactly as received")]
    MalformedId,
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    /// A bug or inconsistent stored data, not something the client did.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// The `extensions.code` clients branch on.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Database(_) | ApiError::Internal(_) => INTERNAL,
            _ => BAD_USER_INPUT,
        }
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        let code = error.code();
        let message = if code == INTERNAL {
            // The details stay in the log: they may name tables, hosts or data the client
            // has no business seeing, and the client could not act on them anyway.
            tracing::error!(error = %error, "GraphQL request failed");
            "internal error: the request could not be completed; please try again later".to_owned()
        } else {
            error.to_string()
        };
        let mut graphql_error = async_graphql::Error::new(message);
        graphql_error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
        graphql_error
    }
}

/// Why the server could not start, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("invalid log level \"{filter}\": {reason}")]
    LogFilter { filter: String, reason: String },
    #[error("cannot set up logging: {0}")]
    Telemetry(String),
    #[error("cannot connect to the database at {url}: {source}")]
    Connect { url: String, source: DbErr },
    #[error("cannot apply the database migrations: {0}")]
    Migrate(DbErr),
    #[error("cannot load the listings: {0}")]
    Ingest(#[from] ingest::IngestError),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("the HTTP server failed: {0}")]
    Serve(std::io::Error),
}
