//! How the read layer runs a statement: straight on the pool, or, behind a pooler in
//! transaction pooling mode (PgBouncer's `pool_mode = transaction`), each statement in a short
//! transaction of its own.
//!
//! The driver runs a statement in two exchanges with the server (parse and describe, then bind
//! and execute), each ended by a `Sync`. Outside a transaction a transaction pooler may hand the
//! server connection to another client between the two, and the bind would then name a
//! statement that is not there, or another client's. Inside a transaction the pooler keeps the
//! connection until `COMMIT`. The pool's statement cache is off in that mode
//! (`database::Pooler::Transaction`), so nothing outlives the transaction; the statement
//! timeout, which a pooler cannot take as a startup option, is set in each transaction.

use std::time::Duration;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, Statement, TransactionTrait,
};

/// A pool as the read layer uses it; cloning shares the pool.
#[derive(Debug, Clone)]
pub struct ReadConnection {
    db: DatabaseConnection,
    /// `Some`: each statement in a transaction of its own, with this statement timeout (`None`
    /// inside: the server's).
    own_transaction: Option<Option<Duration>>,
}

impl ReadConnection {
    /// Statements straight on `db`.
    pub fn direct(db: DatabaseConnection) -> ReadConnection {
        ReadConnection {
            db,
            own_transaction: None,
        }
    }

    /// Each statement in a transaction of its own on `db`, stopped after `statement_timeout`.
    pub fn transaction_pooled(
        db: DatabaseConnection,
        statement_timeout: Option<Duration>,
    ) -> ReadConnection {
        ReadConnection {
            db,
            own_transaction: Some(statement_timeout),
        }
    }

    /// The pool itself (for its gauges and pings).
    pub fn pool(&self) -> &DatabaseConnection {
        &self.db
    }

    /// A transaction for one statement, with the statement timeout set in it.
    async fn begin(
        &self,
        statement_timeout: Option<Duration>,
    ) -> Result<DatabaseTransaction, DbErr> {
        let transaction = self.db.begin().await?;
        if let Some(timeout) = statement_timeout
            && self.db.get_database_backend() == DbBackend::Postgres
        {
            transaction
                .execute_unprepared(&format!(
                    "SET LOCAL statement_timeout = {}",
                    timeout.as_millis()
                ))
                .await?;
        }
        Ok(transaction)
    }
}

/// Runs `$call` on the pool, or in a transaction of its own (rolled back when dropped on an
/// error, committed otherwise).
macro_rules! run {
    ($connection:expr, |$db:ident| $call:expr) => {
        match $connection.own_transaction {
            None => {
                let $db = &$connection.db;
                $call.await
            }
            Some(statement_timeout) => {
                let transaction = $connection.begin(statement_timeout).await?;
                let value = {
                    let $db = &transaction;
                    $call.await?
                };
                transaction.commit().await?;
                Ok(value)
            }
        }
    };
}

#[async_trait::async_trait]
impl ConnectionTrait for ReadConnection {
    fn get_database_backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        run!(self, |db| db.execute_raw(stmt))
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        run!(self, |db| db.execute_unprepared(sql))
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        run!(self, |db| db.query_one_raw(stmt))
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        run!(self, |db| db.query_all_raw(stmt))
    }
}
