//! One run of the ingest: which files (with their sha256) and what it changed.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ingest_run")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    /// JSON array of `{ "path": …, "sha256": … }`.
    pub files: Json,
    pub releases: i32,
    pub inserted: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub pruned: i32,
}

impl ActiveModelBehavior for ActiveModel {}
