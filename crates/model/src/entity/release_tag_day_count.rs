//! How many releases of a day are tagged with a programme or an office: precomputed by ingest
//! for `releaseFacets` from `release_programme` and `release_office` (no row for zero).

use sea_orm::entity::prelude::*;

/// `kind` of a programme's counts; `tag_id` is then a `programme.id`.
pub const PROGRAMME: i16 = 1;
/// `kind` of an office's counts; `tag_id` is then an `office.id`.
pub const OFFICE: i16 = 2;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "release_tag_day_count")]
pub struct Model {
    /// [`PROGRAMME`] or [`OFFICE`].
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: i16,
    #[sea_orm(primary_key, auto_increment = false)]
    pub tag_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub published_on: Date,
    pub releases: i32,
}

impl ActiveModelBehavior for ActiveModel {}
