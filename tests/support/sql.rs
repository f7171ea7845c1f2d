//! Plain SQL for tests that set up or inspect a database of their own (a cluster they started):
//! the server's own connection, a statement run, one value read.

use clap::Parser;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

/// The server's connection, opened the way the `api` binary opens it in production: its pool
/// settings (short acquire wait, statement timeout) as its flags and environment give them.
pub async fn connect_server(url: &str) -> DatabaseConnection {
    let cli = api::Cli::try_parse_from(["api", "--database-url", url])
        .expect("the api flags do not parse");
    database::connect_with(url, &cli.config.pool_settings())
        .await
        .expect("cannot connect the server to its database")
}

/// Runs `sql`, panicking with it when it fails.
pub async fn execute(db: &DatabaseConnection, sql: &str) {
    db.execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("`{sql}` failed: {e}"));
}

/// The first column of the first row of `sql`, as text.
pub async fn query_text(db: &DatabaseConnection, sql: &str) -> String {
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("`{sql}` failed: {e}"))
        .unwrap_or_else(|| panic!("`{sql}` returned no row"));
    row.try_get_by_index::<String>(0)
        .unwrap_or_else(|e| panic!("`{sql}` did not return text: {e}"))
}
