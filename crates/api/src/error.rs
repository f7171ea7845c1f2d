//! What can go wrong: `ApiError` for one GraphQL request (each variant maps to an
//! `extensions.code` and a message that says what to fix), `StartupError` for bringing the
//! server up.

use std::fmt;
use std::net::SocketAddr;

use chrono::NaiveDate;
use sea_orm::DbErr;

use model::TagKind;

use crate::live::LiveError;
use crate::store::StoreError;
use crate::store::page::{MAX_PAGE_SIZE, PageError};
use crate::store::related::{MAX_RELATED, MIN_RELATED};
use crate::store::search::{MAX_SUGGESTIONS, SearchTooLong};

/// The `extensions.code` of every error the API sends: what a client branches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The client can fix the request: the message says how.
    BadUserInput,
    /// The client cannot fix it; details are only in the server log.
    Internal,
    /// The database cannot be reached: retrying later may succeed.
    ServiceUnavailable,
    /// The request ran past its deadline.
    Timeout,
    /// The query is nested deeper than the limit.
    QueryTooDeep,
    /// The query costs more than the limit.
    QueryTooComplex,
    /// The document has more aliases than the limit.
    TooManyAliases,
    /// A field has more directives than the limit.
    TooManyDirectives,
    /// The document is longer than the limit.
    DocumentTooLarge,
    /// The batch has more operations than the limit.
    BatchTooLarge,
    /// The request body is larger than the limit (HTTP 413).
    PayloadTooLarge,
    /// The server does not know the persisted-query hash: send the query text.
    PersistedQueryNotFound,
    /// This server cannot deliver live updates (the SQLite archive): poll instead.
    SubscriptionsUnavailable,
    /// The connection already carries as many subscriptions as allowed.
    TooManySubscriptions,
    /// The server already holds as many subscription connections as allowed (HTTP 503).
    TooManyConnections,
    /// More events waited for the client than allowed: it was cut off.
    SlowConsumer,
    /// A browser page of an origin not allowed by `--cors-origin` tried to subscribe (HTTP 403).
    ForbiddenOrigin,
}

impl ErrorCode {
    /// The code as sent, e.g. `BAD_USER_INPUT`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::QueryTooDeep => "QUERY_TOO_DEEP",
            ErrorCode::QueryTooComplex => "QUERY_TOO_COMPLEX",
            ErrorCode::TooManyAliases => "TOO_MANY_ALIASES",
            ErrorCode::TooManyDirectives => "TOO_MANY_DIRECTIVES",
            ErrorCode::DocumentTooLarge => "DOCUMENT_TOO_LARGE",
            ErrorCode::BatchTooLarge => "BATCH_TOO_LARGE",
            ErrorCode::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorCode::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            ErrorCode::SubscriptionsUnavailable => "SUBSCRIPTIONS_UNAVAILABLE",
            ErrorCode::TooManySubscriptions => "TOO_MANY_SUBSCRIPTIONS",
            ErrorCode::TooManyConnections => "TOO_MANY_CONNECTIONS",
            ErrorCode::SlowConsumer => "SLOW_CONSUMER",
            ErrorCode::ForbiddenOrigin => "FORBIDDEN_ORIGIN",
        }
    }
}

/// Compares with the code as sent, e.g. `code == "TIMEOUT"`.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a GraphQL request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("unknown {kind} \"{slug}\" in the filter: {hint}")]
    UnknownSlug {
        kind: TagKind,
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
    #[error(transparent)]
    SearchTooLong(#[from] SearchTooLong),
    #[error("`first` is {0}: ask for 1 to {MAX_SUGGESTIONS} suggestions")]
    SuggestionCountOutOfRange(i32),
    #[error(
        "`filter.search` cannot be given to searchSuggestions: the text being typed goes in `text`"
    )]
    SuggestionsWithSearch,
    #[error(
        "searchSuggestions needs the search index: this server answers searches with the database (--search-engine database)"
    )]
    SuggestionsWithoutIndex,
    #[error("malformed id: pass the `id` of a Release, Programme or Office exactly as received")]
    MalformedId,
    #[error(
        "`kinds` is empty: list at least one of PUBLISHED, UPDATED and REMOVED, or leave it out for all three"
    )]
    NoEventKinds,
    #[error(
        "this connection already carries {limit} subscriptions: complete one before starting another, or open another connection"
    )]
    TooManySubscriptions { limit: usize },
    #[error(transparent)]
    Live(LiveError),
    #[error("the database failed")]
    Database(#[from] DbErr),
    /// A bug or inconsistent stored data, not something the client did.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// The `extensions.code` clients branch on.
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::Database(error) => match database_failure(error) {
                DatabaseFailure::Unreachable => ErrorCode::ServiceUnavailable,
                DatabaseFailure::Cancelled => ErrorCode::Timeout,
                DatabaseFailure::Other => ErrorCode::Internal,
            },
            ApiError::Internal(_) => ErrorCode::Internal,
            ApiError::TooManySubscriptions { .. } => ErrorCode::TooManySubscriptions,
            ApiError::Live(LiveError::Sqlite | LiveError::NotFollowing) => {
                ErrorCode::SubscriptionsUnavailable
            }
            ApiError::Live(LiveError::SlowConsumer { .. }) => ErrorCode::SlowConsumer,
            ApiError::Live(LiveError::Store(_)) => ErrorCode::Internal,
            _ => ErrorCode::BadUserInput,
        }
    }

    /// What the client is told. Only input errors say more than the code: the details of the
    /// others may name tables, hosts or data, and the client could not act on them anyway.
    fn client_message(&self) -> String {
        match self.code() {
            ErrorCode::ServiceUnavailable => {
                "the archive's database is unavailable: try again in a few seconds".to_owned()
            }
            ErrorCode::Timeout => {
                "the request took too long and was stopped: ask for less (smaller pages, fewer fields) or try again".to_owned()
            }
            ErrorCode::Internal => {
                "internal error: the request could not be completed; please try again later"
                    .to_owned()
            }
            _ => self.to_string(),
        }
    }
}

/// Whether `error`, or an error that caused it, says that a database could not be reached or
/// its connection broke (not that it refused a statement).
pub fn lost_connection(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(database) = error.downcast_ref::<DbErr>()
            && matches!(database_failure(database), DatabaseFailure::Unreachable)
        {
            return true;
        }
        next = error.source();
    }
    false
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
            ErrorCode::Internal => {
                tracing::error!(error = %chain(&error), "GraphQL request failed");
            }
            ErrorCode::ServiceUnavailable | ErrorCode::Timeout => {
                tracing::warn!(error = %chain(&error), code = code.as_str(), "GraphQL request failed");
            }
            _ => {}
        }
        let message = error.client_message();
        let mut graphql_error = async_graphql::Error::new(message);
        graphql_error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code.as_str());
        graphql_error
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Database(error) => ApiError::Database(error),
            StoreError::Page(PageError::CursorFromOtherOrder(argument)) => {
                ApiError::CursorFromOtherOrder { argument }
            }
            StoreError::Page(PageError::RelevanceWithoutSearch) => ApiError::RelevanceWithoutSearch,
            internal @ (StoreError::UnsupportedBackend(_)
            | StoreError::Inconsistent(_)
            | StoreError::Search(_)) => ApiError::Internal(internal.to_string()),
        }
    }
}

impl From<LiveError> for ApiError {
    fn from(error: LiveError) -> Self {
        match error {
            LiveError::Store(error) => ApiError::from(error),
            error => ApiError::Live(error),
        }
    }
}

/// `error` and its causes, `: `-separated, for the log.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
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
    #[error("cannot apply the database migrations")]
    Migrate(#[source] DbErr),
    #[error("cannot load the listings")]
    Ingest(#[from] ingest::IngestError),
    #[error("cannot listen on {address}")]
    Bind {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("the HTTP server failed")]
    Serve(#[source] std::io::Error),
    #[error(
        "invalid CORS origin \"{0}\": give a scheme and host (and port if not the default), e.g. https://app.example.org"
    )]
    CorsOrigin(String),
    #[error(
        "invalid public URL \"{0}\": give a scheme and host, and a path if the server is not at the root, e.g. https://press.example.org"
    )]
    PublicUrl(String),
    #[error("cannot use the read replicas")]
    Replicas(#[from] crate::ops::read_routing::RoutingError),
    #[error(
        "--migrate and --ingest cannot run through a transaction pooler (--database-pooler transaction): run `ingest --migrate` with a direct URL to the primary first"
    )]
    ThroughPooler,
    #[error("the search index could not be opened or built")]
    SearchIndex(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error(
        "--database-pooler transaction needs --listen-url (DATABASE_LISTEN_URL), a direct connection to the primary: LISTEN does not work through transaction pooling"
    )]
    PoolerWithoutListenUrl,
    #[error("invalid --listen-url {url}")]
    ListenUrl {
        url: String,
        source: sea_orm::sqlx::Error,
    },
}
