//! `release_change`: the archive's change log, one row per release that an ingest run
//! published, visibly changed or removed, numbered by `seq` in commit order. Ingest writes it in
//! the run's own transaction, and runs are serialised, so a reader that sees `seq` n sees every
//! change numbered below it; live subscriptions replay from it and order their events by it.
//!
//! The releases already stored are logged as published, in the order they were first stored
//! (`created_at`, then id), so that every release has a place in the stream from the start. On
//! PostgreSQL the table notifies `archive_changed` like every table the API reads.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ReleaseChange {
    Table,
    Seq,
    ReleaseId,
    Kind,
}

const RELEASE_INDEX: &str = "release_change_release_id_seq";

/// Every stored release, published (kind 1) in the order it was first stored. Plain SQL that
/// both backends accept; `seq` comes from the key's own sequence, in the SELECT's order.
const BACKFILL: &str = "INSERT INTO release_change (release_id, kind)
     SELECT id, 1 FROM release ORDER BY created_at, id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ReleaseChange::Table)
                    .col(big_pk_auto(ReleaseChange::Seq))
                    // No foreign key: a removed release keeps its changes, the last of which
                    // says that it was removed.
                    .col(uuid(ReleaseChange::ReleaseId))
                    .col(
                        small_integer(ReleaseChange::Kind)
                            .check(Expr::col(ReleaseChange::Kind).is_in([1, 2, 3])),
                    )
                    .to_owned(),
            )
            .await?;
        // A `releases` cursor names a release: its last change is its place in the stream.
        manager
            .create_index(
                Index::create()
                    .name(RELEASE_INDEX)
                    .table(ReleaseChange::Table)
                    .col(ReleaseChange::ReleaseId)
                    .col(ReleaseChange::Seq)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(BACKFILL).await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            // The function comes from the archive_changed migration; its payload, the table
            // name, is how the API tells a commit that logged changes from any other write.
            db.execute_unprepared(
                "CREATE TRIGGER release_change_changed \
                 AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON release_change \
                 FOR EACH STATEMENT EXECUTE FUNCTION archive_changed_notify()",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    "DROP TRIGGER IF EXISTS release_change_changed ON release_change",
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(ReleaseChange::Table).to_owned())
            .await
    }
}
