//! Plain SQL for tests that set up or inspect a database of their own (a cluster they started):
//! the seed archive created there, the server's own connection, a statement run, one value read.

use clap::Parser;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

use crate::app::load_listings;
use crate::cluster::Cluster;
use crate::seeds_dir;

/// Creates database `archive` on `cluster`, migrated and loaded with the seed listings, and
/// returns its URL.
pub async fn create_seed_archive(cluster: &Cluster) -> String {
    let admin = Database::connect(cluster.url("postgres"))
        .await
        .expect("cannot connect to the test cluster");
    execute(&admin, "CREATE DATABASE archive").await;
    admin.close().await.ok();
    let url = cluster.url("archive");
    let db = connect_server(&url).await;
    Migrator::up(&db, None)
        .await
        .expect("cannot migrate the test cluster");
    load_listings(&db, &[seeds_dir()]).await;
    db.close().await.ok();
    url
}

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
