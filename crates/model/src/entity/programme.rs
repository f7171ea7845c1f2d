//! A programme or project of the ILO that releases are about.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
// Deserialize: the API reads a release's programmes as JSON built from these rows.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "programme")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    pub acronym: Option<String>,
    pub description: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
