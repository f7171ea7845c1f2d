//! Precomputed release counts per publication day, for `releaseFacets`: per day, per programme
//! or office and day, and per (programme, office) pair and day. Ingest recomputes them inside
//! its transaction; the migration fills them from the rows already stored, so an upgraded
//! database is consistent from the start.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ReleaseDayCount {
    Table,
    PublishedOn,
    Releases,
}

#[derive(DeriveIden)]
enum ReleaseTagDayCount {
    Table,
    Kind,
    TagId,
    PublishedOn,
    Releases,
}

#[derive(DeriveIden)]
enum ReleasePairDayCount {
    Table,
    ProgrammeId,
    OfficeId,
    PublishedOn,
    Releases,
}

/// The counts of the rows stored when the migration runs; `kind` 1 is a programme, 2 an office
/// (as in `model::entity::release_tag_day_count`). Plain SQL that both backends accept.
const FILL: &[&str] = &[
    "INSERT INTO release_day_count (published_on, releases)
     SELECT published_on, COUNT(*) FROM release GROUP BY published_on",
    "INSERT INTO release_tag_day_count (kind, tag_id, published_on, releases)
     SELECT 1, programme_id, published_on, COUNT(*) FROM release_programme
     GROUP BY programme_id, published_on",
    "INSERT INTO release_tag_day_count (kind, tag_id, published_on, releases)
     SELECT 2, office_id, published_on, COUNT(*) FROM release_office
     GROUP BY office_id, published_on",
    "INSERT INTO release_pair_day_count (programme_id, office_id, published_on, releases)
     SELECT p.programme_id, o.office_id, p.published_on, COUNT(*)
     FROM release_programme p JOIN release_office o ON o.release_id = p.release_id
     GROUP BY p.programme_id, o.office_id, p.published_on",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ReleaseDayCount::Table)
                    .col(date(ReleaseDayCount::PublishedOn))
                    .col(integer(ReleaseDayCount::Releases))
                    .primary_key(Index::create().col(ReleaseDayCount::PublishedOn))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReleaseTagDayCount::Table)
                    .col(small_integer(ReleaseTagDayCount::Kind))
                    .col(integer(ReleaseTagDayCount::TagId))
                    .col(date(ReleaseTagDayCount::PublishedOn))
                    .col(integer(ReleaseTagDayCount::Releases))
                    .primary_key(
                        Index::create()
                            .col(ReleaseTagDayCount::Kind)
                            .col(ReleaseTagDayCount::TagId)
                            .col(ReleaseTagDayCount::PublishedOn),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReleasePairDayCount::Table)
                    .col(integer(ReleasePairDayCount::ProgrammeId))
                    .col(integer(ReleasePairDayCount::OfficeId))
                    .col(date(ReleasePairDayCount::PublishedOn))
                    .col(integer(ReleasePairDayCount::Releases))
                    .primary_key(
                        Index::create()
                            .col(ReleasePairDayCount::ProgrammeId)
                            .col(ReleasePairDayCount::OfficeId)
                            .col(ReleasePairDayCount::PublishedOn),
                    )
                    .to_owned(),
            )
            .await?;
        // The programmes facet under an office filter reads the pairs of one office.
        manager
            .create_index(
                Index::create()
                    .name("release_pair_day_count_by_office")
                    .table(ReleasePairDayCount::Table)
                    .col(ReleasePairDayCount::OfficeId)
                    .col(ReleasePairDayCount::ProgrammeId)
                    .col(ReleasePairDayCount::PublishedOn)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        for statement in FILL {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ReleasePairDayCount::Table.into_iden(),
            ReleaseTagDayCount::Table.into_iden(),
            ReleaseDayCount::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
