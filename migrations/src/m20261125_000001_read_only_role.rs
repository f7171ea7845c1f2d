//! `archive_reader`: a PostgreSQL role that may read every table of the archive and write none,
//! for deployments that serve the API under a login that cannot change the data. SQLite has no
//! roles: there the migration does nothing.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES_UP: &[&str] = &[
    // Roles belong to the whole cluster and every archive database on it runs this migration,
    // so the role may already exist; two databases migrated at once may also race to create it
    // (the loser sees duplicate_object, or unique_violation on the role catalogue).
    // A DBA may create it beforehand, so that the migrating login needs no CREATEROLE.
    "DO $$
    BEGIN
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'archive_reader') THEN
            CREATE ROLE archive_reader NOLOGIN;
        END IF;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;
    END
    $$",
    // The grants are per database: this one only. The schema is the one the tables live in.
    "DO $$
    BEGIN
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO archive_reader', current_schema());
        EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO archive_reader', current_schema());
        -- Tables that later migrations create (as this same login) are readable too.
        EXECUTE format(
            'ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT ON TABLES TO archive_reader',
            current_schema()
        );
    END
    $$",
];

/// Takes back what `up` granted in this database. The role itself stays: other databases on
/// the cluster may still use it.
const POSTGRES_DOWN: &[&str] = &["DO $$
    BEGIN
        IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'archive_reader') THEN
            EXECUTE format(
                'ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE SELECT ON TABLES FROM archive_reader',
                current_schema()
            );
            EXECUTE format('REVOKE SELECT ON ALL TABLES IN SCHEMA %I FROM archive_reader', current_schema());
            EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM archive_reader', current_schema());
        END IF;
    END
    $$"];

async fn run_all(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
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
        run_all(manager, POSTGRES_UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, POSTGRES_DOWN).await
    }
}
