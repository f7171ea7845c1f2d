//! How many releases were published on a day: precomputed by ingest for `releaseFacets`
//! (a day without releases has no row).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "release_day_count")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub published_on: Date,
    pub releases: i32,
}

impl ActiveModelBehavior for ActiveModel {}
