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
/// `extensions.code` when the database cannot be reached: retrying later may succeed.
pub const SERVICE_UNAVAILABLE: &str = "SERVICE_UNAVAILABLE";
/// `extensions.code` when a request ran past its deadline.
pub const TIMEOUT: &str = "TIMEOUT";
/// `extensions.code` of a query nested deeper than the limit.
pub const QUERY_TOO_DEEP: &str = "QUERY_TOO_DEEP";
/// `extensions.code` of a query costing more than the limit.
pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
/// `extensions.code` of a document with more aliases than the limit.
pub const TOO_MANY_ALIASES: &str = "TOO_MANY_ALIASES";
/// `extensions.code` of a field with more directives than the limit.
pub const TOO_MANY_DIRECTIVES: &str = "TOO_MANY_DIRECTIVES";
/// `extensions.code` of a document longer than the limit.
pub const DOCUMENT_TOO_LARGE: &str = "DOCUMENT_TOO_LARGE";
/// `extensions.code` of a batch with more operations than the limit.
pub const BATCH_TOO_LARGE: &str = "BATCH_TOO_LARGE";
/// `extensions.code` of a request body larger than the limit (HTTP 413).
pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
/// `extensions.code` of a persisted-query hash the server does not know: send the query text.
pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";

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
            ApiError::Database(error) => match database_failure(error) {
                DatabaseFailure::Unreachable => SERVICE_UNAVAILABLE,
                DatabaseFailure::Cancelled => TIMEOUT,
                DatabaseFailure::Other => INTERNAL,
            },
            ApiError::Internal(_) => INTERNAL,
            _ => BAD_USER_INPUT,
        }
    }

    /// What the client is told. Only input errors say more than the code: the details of the
    /// others may name tables, hosts or data, and the client could not act on them anyway.
    fn client_message(&self) -> String {
        match self.code() {
            SERVICE_UNAVAILABLE => {
                "the archive's database is unavailable: try again in a few seconds".to_owned()
            }
            TIMEOUT => {
                "the request took too long and was stopped: ask for less (smaller pages, fewer fields) or try again".to_owned()
            }
            INTERNAL => {
                "internal error: the request could not be completed; please try again later"
                    .to_owned()
            }
            _ => self.to_string(),
        }
    }
}

/// How a database error looks from the client's side.
enum DatabaseFailure {
    /// No connection could be had or kept: the database is down, restarting or unreachable.
    Unreachable,
    /// The statement ran into `statement_timeout`.
    Cancelled,
    Other,
}

fn database_failure(error: &DbErr) -> DatabaseFailure {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as SqlxError;

    let sqlx_error = match error {
        DbErr::ConnectionAcquire(_) => return DatabaseFailure::Unreachable,
        DbErr::Conn(RuntimeErr::SqlxError(error))
        | DbErr::Exec(RuntimeErr::SqlxError(error))
        | DbErr::Query(RuntimeErr::SqlxError(error)) => error,
        DbErr::Conn(_) => return DatabaseFailure::Unreachable,
        _ => return DatabaseFailure::Other,
    };
    match sqlx_error.as_ref() {
        SqlxError::Io(_)
        | SqlxError::Tls(_)
        | SqlxError::PoolTimedOut
        | SqlxError::PoolClosed
        | SqlxError::WorkerCrashed => DatabaseFailure::Unreachable,
        SqlxError::Database(database_error) => match database_error.code().as_deref() {
            // query_canceled: statement_timeout
            Some("57014") => DatabaseFailure::Cancelled,
            // connection_exception (08…), and admin/crash shutdown or "cannot connect now" (57P…)
            Some(code) if code.starts_with("08") || code.starts_with("57P") => {
                DatabaseFailure::Unreachable
            }
            _ => DatabaseFailure::Other,
        },
        _ => DatabaseFailure::Other,
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        let code = error.code();
        match code {
            INTERNAL => tracing::error!(error = %error, "GraphQL request failed"),
            SERVICE_UNAVAILABLE | TIMEOUT => {
                tracing::warn!(error = %error, code, "GraphQL request failed");
            }
            _ => {}
        }
        let message = error.client_message();
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
    #[error("cannot connect to the database at {url}")]
    Connect { url: String, source: DbErr },
    #[error("cannot apply the database migrations: {0}")]
    Migrate(DbErr),
    #[error("cannot load the listings")]
    Ingest(#[from] ingest::IngestError),
    #[error("cannot listen on {address}")]
    Bind {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("the HTTP server failed: {0}")]
    Serve(std::io::Error),
    #[error(
        "invalid CORS origin \"{0}\": give a scheme and host (and port if not the default), e.g. https://app.example.org"
    )]
    CorsOrigin(String),
}
