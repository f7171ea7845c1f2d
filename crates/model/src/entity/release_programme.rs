//! A release tagged with a programme, and why: the catalogue alias that matched
//! (never `None` today: programmes are only found through aliases).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "release_programme")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub release_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub programme_id: i32,
    /// Copy of the release's date, so per-programme pages are served by one index.
    pub published_on: Date,
    pub matched_alias: Option<String>,
    #[sea_orm(belongs_to, from = "release_id", to = "id")]
    pub release: BelongsTo<super::release::Entity>,
    #[sea_orm(belongs_to, from = "programme_id", to = "id")]
    pub programme: BelongsTo<super::programme::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
