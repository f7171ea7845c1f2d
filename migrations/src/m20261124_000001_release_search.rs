//! Full-text search over release titles and summaries. PostgreSQL: a stored, weighted
//! `tsvector` (title A, summary B; English stemming) with a GIN index. SQLite: an FTS5 index
//! (Porter stemming) over the same two columns, kept in step with `release` by triggers.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES_UP: &[&str] = &[
    "ALTER TABLE release ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A')
        || setweight(to_tsvector('english', coalesce(summary, '')), 'B')
    ) STORED",
    "CREATE INDEX release_search_vector ON release USING GIN (search_vector)",
];

const POSTGRES_DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS release_search_vector",
    "ALTER TABLE release DROP COLUMN IF EXISTS search_vector",
];

// `release_fts` is an external-content table: it stores only the index and reads the text
// from `release` by rowid. (VACUUM may renumber the rowids of a table without an integer
// primary key; after a VACUUM, run `INSERT INTO release_fts(release_fts) VALUES ('rebuild')`.)
const SQLITE_UP: &[&str] = &[
    "CREATE VIRTUAL TABLE release_fts USING fts5(
        title, summary,
        content = 'release', content_rowid = 'rowid',
        tokenize = 'porter unicode61 remove_diacritics 2'
    )",
    "CREATE TRIGGER release_fts_insert AFTER INSERT ON release BEGIN
        INSERT INTO release_fts (rowid, title, summary) VALUES (new.rowid, new.title, new.summary);
    END",
    "CREATE TRIGGER release_fts_delete AFTER DELETE ON release BEGIN
        INSERT INTO release_fts (release_fts, rowid, title, summary)
        VALUES ('delete', old.rowid, old.title, old.summary);
    END",
    "CREATE TRIGGER release_fts_update AFTER UPDATE OF title, summary ON release BEGIN
        INSERT INTO release_fts (release_fts, rowid, title, summary)
        VALUES ('delete', old.rowid, old.title, old.summary);
        INSERT INTO release_fts (rowid, title, summary) VALUES (new.rowid, new.title, new.summary);
    END",
    "INSERT INTO release_fts (release_fts) VALUES ('rebuild')",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS release_fts_update",
    "DROP TRIGGER IF EXISTS release_fts_delete",
    "DROP TRIGGER IF EXISTS release_fts_insert",
    "DROP TABLE IF EXISTS release_fts",
];

async fn run_all(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for statement in statements {
        db.execute_unprepared(statement).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => run_all(manager, POSTGRES_UP).await,
            DbBackend::Sqlite => run_all(manager, SQLITE_UP).await,
            other => Err(DbErr::Migration(format!(
                "full-text search is implemented for PostgreSQL and SQLite, not {other:?}"
            ))),
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => run_all(manager, POSTGRES_DOWN).await,
            DbBackend::Sqlite => run_all(manager, SQLITE_DOWN).await,
            _ => Ok(()),
        }
    }
}
