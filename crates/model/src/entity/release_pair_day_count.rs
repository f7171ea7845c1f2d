//! How many releases of a day are tagged with both a programme and an office: precomputed by
//! ingest for `releaseFacets` (offices under one programme, programmes under one office).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "release_pair_day_count")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub programme_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub office_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub published_on: Date,
    pub releases: i32,
}

impl ActiveModelBehavior for ActiveModel {}
