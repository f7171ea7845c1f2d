//! Which offices run which programme.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "programme_office")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub programme_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub office_id: i32,
    #[sea_orm(belongs_to, from = "programme_id", to = "id")]
    pub programme: BelongsTo<super::programme::Entity>,
    #[sea_orm(belongs_to, from = "office_id", to = "id")]
    pub office: BelongsTo<super::office::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
