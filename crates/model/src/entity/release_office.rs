//! A release tagged with an office, and why: the catalogue alias that matched
//! (`None` when the office is the publisher of the release's listing).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "release_office")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub release_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub office_id: i32,
    /// Copy of the release's date, so per-office pages are served by one index.
    pub published_on: Date,
    pub matched_alias: Option<String>,
    #[sea_orm(belongs_to, from = "release_id", to = "id")]
    pub release: BelongsTo<super::release::Entity>,
    #[sea_orm(belongs_to, from = "office_id", to = "id")]
    pub office: BelongsTo<super::office::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
