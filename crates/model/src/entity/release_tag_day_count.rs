//! How many releases of a day are tagged with a programme or an office: precomputed by ingest
//! for `releaseFacets` from `release_programme` and `release_office` (no row for zero).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "release_tag_day_count")]
pub struct Model {
    /// `TagKind::code`: 1, `tag_id` is a `programme.id`; 2, an `office.id`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: i16,
    #[sea_orm(primary_key, auto_increment = false)]
    pub tag_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub published_on: Date,
    pub releases: i32,
}

impl ActiveModelBehavior for ActiveModel {}
