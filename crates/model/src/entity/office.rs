//! An ILO office: publishes listings and is concerned by releases.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
// Deserialize: the API reads a release's offices as JSON built from these rows.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "office")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    pub acronym: Option<String>,
    pub description: Option<String>,
    pub city: Option<String>,
    /// JSON array of country names.
    pub countries: Json,
}

impl ActiveModelBehavior for ActiveModel {}
