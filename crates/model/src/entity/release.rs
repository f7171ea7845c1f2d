//! A press release. `id` is derived from the natural key (see `crate::release_id`).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "release")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub slug: String,
    pub title: String,
    pub published_on: Date,
    pub summary: Option<String>,
    pub image_credit: Option<String>,
    /// Listing file the release was last read from, and the line of its numbered item.
    pub source_file: String,
    pub source_line: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
