//! Catalogue tables (offices, programmes), releases with their tags, and the ingest-run log.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Office {
    Table,
    Id,
    Slug,
    Name,
    Acronym,
    Description,
    City,
    Countries,
}

#[derive(DeriveIden)]
enum Programme {
    Table,
    Id,
    Slug,
    Name,
    Acronym,
    Description,
}

#[derive(DeriveIden)]
enum ProgrammeOffice {
    Table,
    ProgrammeId,
    OfficeId,
}

#[derive(DeriveIden)]
enum Release {
    Table,
    Id,
    Slug,
    Title,
    PublishedOn,
    Summary,
    ImageCredit,
    SourceFile,
    SourceLine,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ReleaseProgramme {
    Table,
    ReleaseId,
    ProgrammeId,
    PublishedOn,
    MatchedAlias,
}

#[derive(DeriveIden)]
enum ReleaseOffice {
    Table,
    ReleaseId,
    OfficeId,
    PublishedOn,
    MatchedAlias,
}

#[derive(DeriveIden)]
enum IngestRun {
    Table,
    Id,
    StartedAt,
    FinishedAt,
    Files,
    Releases,
    Inserted,
    Updated,
    Unchanged,
    Pruned,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Office::Table)
                    .col(pk_auto(Office::Id))
                    .col(text_uniq(Office::Slug))
                    .col(text(Office::Name))
                    .col(text_null(Office::Acronym))
                    .col(text_null(Office::Description))
                    .col(text_null(Office::City))
                    .col(json(Office::Countries))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Programme::Table)
                    .col(pk_auto(Programme::Id))
                    .col(text_uniq(Programme::Slug))
                    .col(text(Programme::Name))
                    .col(text_null(Programme::Acronym))
                    .col(text_null(Programme::Description))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProgrammeOffice::Table)
                    .col(integer(ProgrammeOffice::ProgrammeId))
                    .col(integer(ProgrammeOffice::OfficeId))
                    .primary_key(
                        Index::create()
                            .col(ProgrammeOffice::ProgrammeId)
                            .col(ProgrammeOffice::OfficeId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProgrammeOffice::Table, ProgrammeOffice::ProgrammeId)
                            .to(Programme::Table, Programme::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProgrammeOffice::Table, ProgrammeOffice::OfficeId)
                            .to(Office::Table, Office::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Release::Table)
                    .col(pk_uuid(Release::Id))
                    .col(text_uniq(Release::Slug))
                    .col(text(Release::Title))
                    .col(date(Release::PublishedOn))
                    .col(text_null(Release::Summary))
                    .col(text_null(Release::ImageCredit))
                    .col(text(Release::SourceFile))
                    .col(integer(Release::SourceLine))
                    .col(timestamp_with_time_zone(Release::CreatedAt))
                    .col(timestamp_with_time_zone(Release::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // Keyset pagination walks (published_on, id) in both directions.
        manager
            .create_index(
                Index::create()
                    .name("release_published_on_id")
                    .table(Release::Table)
                    .col(Release::PublishedOn)
                    .col(Release::Id)
                    .to_owned(),
            )
            .await?;

        // The tag tables repeat the release's date so that "releases of programme P, newest
        // first" is one index range scan instead of a join over every tagged release.
        manager
            .create_table(
                Table::create()
                    .table(ReleaseProgramme::Table)
                    .col(uuid(ReleaseProgramme::ReleaseId))
                    .col(integer(ReleaseProgramme::ProgrammeId))
                    .col(date(ReleaseProgramme::PublishedOn))
                    .col(text_null(ReleaseProgramme::MatchedAlias))
                    .primary_key(
                        Index::create()
                            .col(ReleaseProgramme::ReleaseId)
                            .col(ReleaseProgramme::ProgrammeId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ReleaseProgramme::Table, ReleaseProgramme::ReleaseId)
                            .to(Release::Table, Release::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ReleaseProgramme::Table, ReleaseProgramme::ProgrammeId)
                            .to(Programme::Table, Programme::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("release_programme_by_programme")
                    .table(ReleaseProgramme::Table)
                    .col(ReleaseProgramme::ProgrammeId)
                    .col(ReleaseProgramme::PublishedOn)
                    .col(ReleaseProgramme::ReleaseId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReleaseOffice::Table)
                    .col(uuid(ReleaseOffice::ReleaseId))
                    .col(integer(ReleaseOffice::OfficeId))
                    .col(date(ReleaseOffice::PublishedOn))
                    .col(text_null(ReleaseOffice::MatchedAlias))
                    .primary_key(
                        Index::create()
                            .col(ReleaseOffice::ReleaseId)
                            .col(ReleaseOffice::OfficeId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ReleaseOffice::Table, ReleaseOffice::ReleaseId)
                            .to(Release::Table, Release::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ReleaseOffice::Table, ReleaseOffice::OfficeId)
                            .to(Office::Table, Office::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("release_office_by_office")
                    .table(ReleaseOffice::Table)
                    .col(ReleaseOffice::OfficeId)
                    .col(ReleaseOffice::PublishedOn)
                    .col(ReleaseOffice::ReleaseId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IngestRun::Table)
                    .col(big_pk_auto(IngestRun::Id))
                    .col(timestamp_with_time_zone(IngestRun::StartedAt))
                    .col(timestamp_with_time_zone_null(IngestRun::FinishedAt))
                    .col(json(IngestRun::Files))
                    .col(integer(IngestRun::Releases))
                    .col(integer(IngestRun::Inserted))
                    .col(integer(IngestRun::Updated))
                    .col(integer(IngestRun::Unchanged))
                    .col(integer(IngestRun::Pruned))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            IngestRun::Table.into_iden(),
            ReleaseOffice::Table.into_iden(),
            ReleaseProgramme::Table.into_iden(),
            Release::Table.into_iden(),
            ProgrammeOffice::Table.into_iden(),
            Programme::Table.into_iden(),
            Office::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
