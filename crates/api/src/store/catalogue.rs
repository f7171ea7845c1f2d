//! Programmes and offices: all of them, one by slug, and slugs resolved to ids.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use model::TagKind;
use model::entity::{office, programme};

use crate::store::{Store, StoreError};

/// Slugs of a filter resolved to ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// Every slug is known: their distinct ids, ascending.
    Ids(Vec<i32>),
    /// `unknown` is not a slug of the kind; `valid` lists every slug there is, in order.
    Unknown { unknown: String, valid: Vec<String> },
}

impl Store {
    /// Every programme, by name then slug.
    pub async fn programmes(&self) -> Result<Vec<programme::Model>, StoreError> {
        Ok(programme::Entity::find()
            .order_by_asc(programme::Column::Name)
            .order_by_asc(programme::Column::Slug)
            .all(self.db())
            .await?)
    }

    /// Every office, by name then slug.
    pub async fn offices(&self) -> Result<Vec<office::Model>, StoreError> {
        Ok(office::Entity::find()
            .order_by_asc(office::Column::Name)
            .order_by_asc(office::Column::Slug)
            .all(self.db())
            .await?)
    }

    pub async fn programme_by_slug(
        &self,
        slug: &str,
    ) -> Result<Option<programme::Model>, StoreError> {
        Ok(programme::Entity::find()
            .filter(programme::Column::Slug.eq(slug))
            .one(self.db())
            .await?)
    }

    pub async fn office_by_slug(&self, slug: &str) -> Result<Option<office::Model>, StoreError> {
        Ok(office::Entity::find()
            .filter(office::Column::Slug.eq(slug))
            .one(self.db())
            .await?)
    }

    /// The ids of the `kind` slugs `slugs`: one query, and a second one listing the valid slugs
    /// only when one is unknown (the first unknown, in the order asked).
    pub async fn resolve_slugs(
        &self,
        kind: TagKind,
        slugs: &[String],
    ) -> Result<Resolved, StoreError> {
        let found: Vec<(i32, String)> = match kind {
            TagKind::Programme => {
                programme::Entity::find()
                    .select_only()
                    .column(programme::Column::Id)
                    .column(programme::Column::Slug)
                    .filter(programme::Column::Slug.is_in(slugs.iter().cloned()))
                    .into_tuple()
                    .all(self.db())
                    .await?
            }
            TagKind::Office => {
                office::Entity::find()
                    .select_only()
                    .column(office::Column::Id)
                    .column(office::Column::Slug)
                    .filter(office::Column::Slug.is_in(slugs.iter().cloned()))
                    .into_tuple()
                    .all(self.db())
                    .await?
            }
        };
        if let Some(unknown) = slugs
            .iter()
            .find(|slug| !found.iter().any(|(_, known)| known == *slug))
        {
            return Ok(Resolved::Unknown {
                unknown: unknown.clone(),
                valid: self.slugs(kind).await?,
            });
        }
        let mut ids: Vec<i32> = found.into_iter().map(|(id, _)| id).collect();
        ids.sort_unstable();
        ids.dedup();
        Ok(Resolved::Ids(ids))
    }

    /// Every slug of `kind`, in order.
    async fn slugs(&self, kind: TagKind) -> Result<Vec<String>, StoreError> {
        Ok(match kind {
            TagKind::Programme => {
                programme::Entity::find()
                    .select_only()
                    .column(programme::Column::Slug)
                    .order_by_asc(programme::Column::Slug)
                    .into_tuple()
                    .all(self.db())
                    .await?
            }
            TagKind::Office => {
                office::Entity::find()
                    .select_only()
                    .column(office::Column::Slug)
                    .order_by_asc(office::Column::Slug)
                    .into_tuple()
                    .all(self.db())
                    .await?
            }
        })
    }
}
