//! An index over releases in the order they were first stored, `(created_at, id)`, for the
//! sitemap: its pages are ranges of this order, read from a page's first release without
//! scanning the releases before it. `updated_at` rides along so that a page's newest change is
//! read from the index alone.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "release_created_at_id";

#[derive(DeriveIden)]
enum Release {
    Table,
    Id,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Release::Table)
                    .col(Release::CreatedAt)
                    .col(Release::Id)
                    .col(Release::UpdatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table(Release::Table).to_owned())
            .await
    }
}
