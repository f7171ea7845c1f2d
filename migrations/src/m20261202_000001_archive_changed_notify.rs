//! `archive_changed`: a PostgreSQL notification sent when a transaction that wrote to any table
//! the API reads commits, so that a server caching responses knows to drop them. One trigger
//! per table, once per statement; PostgreSQL folds repeats within a transaction. SQLite has no
//! notifications: there the migration does nothing.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The channel the API listens on; the payload is the table that changed.
pub const CHANNEL: &str = "archive_changed";

/// Every table a GraphQL response can be read from. `ingest_run` is not one of them: a run
/// that changes nothing must not empty the caches.
const TABLES: [&str; 9] = [
    "office",
    "programme",
    "programme_office",
    "release",
    "release_programme",
    "release_office",
    "release_day_count",
    "release_tag_day_count",
    "release_pair_day_count",
];

fn notify_function() -> String {
    format!(
        "CREATE OR REPLACE FUNCTION archive_changed_notify() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
            RETURN NULL;
        END
        $$"
    )
}

async fn postgres(manager: &SchemaManager<'_>, statements: &[String]) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let db = manager.get_connection();
    for statement in statements {
        db.execute_unprepared(statement).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut statements = vec![notify_function()];
        statements.extend(TABLES.iter().map(|table| {
            format!(
                "CREATE TRIGGER {table}_changed \
                 AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} \
                 FOR EACH STATEMENT EXECUTE FUNCTION archive_changed_notify()"
            )
        }));
        postgres(manager, &statements).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut statements: Vec<String> = TABLES
            .iter()
            .map(|table| format!("DROP TRIGGER IF EXISTS {table}_changed ON {table}"))
            .collect();
        statements.push("DROP FUNCTION IF EXISTS archive_changed_notify()".to_owned());
        postgres(manager, &statements).await
    }
}
