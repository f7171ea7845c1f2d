//! The read layer: every SQL statement the API runs, built with sea-query. Its inputs are typed
//! (resolved criteria, a page request, a tag selection), its outputs plain rows and models;
//! it knows nothing of GraphQL or HTTP. `dialect` is the one place that says how PostgreSQL
//! and SQLite differ.
//!
//! - `criteria`: which releases a list holds, as SQL conditions (anchored on one tag's index
//!   when every release must carry it);
//! - `page`: keyset pages of releases and their count;
//! - `releases`: one release by slug or id;
//! - `tags`: a release's programmes and offices, embedded as JSON columns or batch-loaded;
//! - `catalogue`: programmes and offices, their slugs and release statistics;
//! - `facets`: releases counted per day and per tag, from the count tables when they are exact;
//! - `related`: the candidates and scores of `Release.related`;
//! - `search`: searched lists, counts, facets and suggestions through the search index, and
//!   the search language (from the `search` crate);
//! - `sitemap`: releases in the order they were stored, in pages named by their first release;
//! - `changes`: the change log that live subscriptions follow and replay;
//! - `read_connection`: how a statement runs: on the pool, or in a transaction of its own
//!   behind a transaction pooler.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr};

pub mod catalogue;
pub mod changes;
pub mod criteria;
pub mod dialect;
pub mod facets;
pub mod page;
pub mod read_connection;
pub mod related;
pub mod releases;
pub mod search;
pub mod search_source;
pub mod sitemap;
pub mod tag_table;
pub mod tags;

#[cfg(test)]
mod sql_snapshots;

pub use dialect::Dialect;
pub use read_connection::ReadConnection;

/// Why a read failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("the database failed")]
    Database(#[from] DbErr),
    #[error("the archive is served from PostgreSQL or SQLite, not {0:?}")]
    UnsupportedBackend(DbBackend),
    #[error("the page request does not fit its list")]
    Page(#[from] page::PageError),
    /// Stored data that breaks the schema's rules.
    #[error("inconsistent data: {0}")]
    Inconsistent(String),
    /// The search index failed.
    #[error("the search index failed: {0}")]
    Search(String),
}

/// The archive's database, read by the API. Cloning is cheap (the pool is shared).
#[derive(Debug, Clone)]
pub struct Store {
    db: ReadConnection,
    /// The search index, when searches are answered by it (else by SQL).
    search: Option<search::SearchAccess>,
}

impl Store {
    /// Statements straight on `db`'s pool.
    pub fn new(db: DatabaseConnection) -> Store {
        Store {
            db: ReadConnection::direct(db),
            search: None,
        }
    }

    /// Behind a transaction pooler: each statement in a transaction of its own on `db`, with
    /// `statement_timeout` set in it (see `read_connection`).
    pub fn transaction_pooled(
        db: DatabaseConnection,
        statement_timeout: Option<Duration>,
    ) -> Store {
        Store {
            db: ReadConnection::transaction_pooled(db, statement_timeout),
            search: None,
        }
    }

    /// Statements on `db` as its pool settings require: each in a transaction of its own
    /// behind a transaction pooler, straight on the pool otherwise.
    pub fn over(db: DatabaseConnection, settings: &database::PoolSettings) -> Store {
        match settings.pooler {
            database::Pooler::Transaction => {
                Store::transaction_pooled(db, settings.statement_timeout)
            }
            database::Pooler::None => Store::new(db),
        }
    }

    /// This store answering searches from `engine`, with a memo of its own: give each request
    /// its own (the matches of its searches are gathered once and shared by its fields).
    pub fn with_search_engine(&self, engine: Option<&search::SearchEngine>) -> Store {
        Store {
            db: self.db.clone(),
            search: engine.cloned().map(search::SearchAccess::new),
        }
    }

    /// What statements run on.
    pub fn db(&self) -> &ReadConnection {
        &self.db
    }

    /// The pool itself, for its gauges.
    pub fn pool(&self) -> &DatabaseConnection {
        self.db.pool()
    }

    /// The SQL dialect of the database.
    pub fn dialect(&self) -> Result<Dialect, StoreError> {
        Dialect::of(self.db.get_database_backend())
    }
}
