//! One release, by slug (with its tags, in one statement) or by id.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
    QueryTrait,
};
use uuid::Uuid;

use model::entity::release;

use crate::store::tags::{EmbeddedTags, TagSelection};
use crate::store::{Store, StoreError};

impl Store {
    /// The release with `slug`, read together with its `tags` (one statement).
    pub async fn release_by_slug(
        &self,
        slug: &str,
        tags: TagSelection,
    ) -> Result<Option<(release::Model, EmbeddedTags)>, StoreError> {
        let dialect = self.dialect()?;
        let query = release::Entity::find()
            .filter(release::Column::Slug.eq(slug))
            .limit(1);
        let statement = tags.add_columns(query, dialect).build(dialect.backend());
        let Some(row) = self.db().query_one_raw(statement).await? else {
            return Ok(None);
        };
        let model = release::Model::from_query_result(&row, "")?;
        Ok(Some((model, EmbeddedTags::read(&row, tags))))
    }

    pub async fn release_by_id(&self, id: Uuid) -> Result<Option<release::Model>, StoreError> {
        Ok(release::Entity::find_by_id(id).one(self.db()).await?)
    }
}
