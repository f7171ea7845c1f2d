//! The `Release` type: one press release. Its programmes and offices come through the batch
//! loader, so listing them for a whole page costs one query each, not one per release.

use async_graphql::{Context, ID, Object};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use model::entity::release;

use crate::error::ApiError;
use crate::schema::data_loader;
use crate::schema::date::Date;
use crate::schema::loaders::{OfficesOfRelease, ProgrammesOfRelease};
use crate::schema::node::GlobalId;
use crate::schema::office::Office;
use crate::schema::programme::Programme;

#[derive(Debug, Clone)]
pub struct Release(pub release::Model);

impl Release {
    pub async fn by_slug(db: &DatabaseConnection, slug: &str) -> Result<Option<Release>, ApiError> {
        Ok(release::Entity::find()
            .filter(release::Column::Slug.eq(slug))
            .one(db)
            .await?
            .map(Release))
    }

    pub async fn by_id(db: &DatabaseConnection, id: Uuid) -> Result<Option<Release>, ApiError> {
        Ok(release::Entity::find_by_id(id).one(db).await?.map(Release))
    }
}

/// A press release: what was announced, when, and which programmes and offices it concerns.
#[Object]
impl Release {
    /// Opaque global id of the release: pass it to `Query.node` to fetch the release again.
    pub(crate) async fn id(&self) -> ID {
        GlobalId::Release(self.0.id).encode()
    }

    /// Unique, URL-friendly name made from the title, e.g. for a page address. Never changes once given.
    async fn slug(&self) -> &str {
        &self.0.slug
    }

    /// Headline of the release, as published.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// Day the release was published.
    async fn published_on(&self) -> Date {
        Date(self.0.published_on)
    }

    /// Opening paragraph of the release, when the listing gives one.
    async fn summary(&self) -> Option<&str> {
        self.0.summary.as_deref()
    }

    /// Credit line of the release's photo as printed, starting with ©; null when it has none.
    async fn image_credit(&self) -> Option<&str> {
        self.0.image_credit.as_deref()
    }

    /// Programmes and projects the release is about, by name; empty when it names none.
    async fn programmes(&self, ctx: &Context<'_>) -> Result<Vec<Programme>, ApiError> {
        let programmes = data_loader(ctx)?
            .load_one(ProgrammesOfRelease(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(programmes.into_iter().map(Programme).collect())
    }

    /// ILO offices the release concerns, by name; always includes the office that published it.
    async fn offices(&self, ctx: &Context<'_>) -> Result<Vec<Office>, ApiError> {
        let offices = data_loader(ctx)?
            .load_one(OfficesOfRelease(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(offices.into_iter().map(Office).collect())
    }
}
