//! The `Office` type: an ILO office, the programmes it runs, and the releases that concern it
//! (a connection scoped to the office, with a batch-loaded count).

use async_graphql::{Context, ID, Object};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use model::entity::office;

use crate::error::ApiError;
use crate::schema::connection::{
    PageArgs, ReleaseConnection, ReleaseOrder, page_complexity, resolve_releases,
};
use crate::schema::filter::{ReleaseFilter, Scope};
use crate::schema::loaders::{OfficeReleaseStats, ProgrammesOfOffice, prefetch};
use crate::schema::node::GlobalId;
use crate::schema::programme::Programme;
use crate::schema::{data_loader, database};

#[derive(Debug, Clone)]
pub struct Office(pub office::Model);

impl Office {
    /// Every office by name, with what the query will ask of each of them prefetched.
    pub async fn all(ctx: &Context<'_>) -> Result<Vec<Office>, ApiError> {
        let offices: Vec<Office> = office::Entity::find()
            .order_by_asc(office::Column::Name)
            .order_by_asc(office::Column::Slug)
            .all(database(ctx)?)
            .await?
            .into_iter()
            .map(Office)
            .collect();
        let selection = ctx.look_ahead();
        let ids = || offices.iter().map(|office| office.0.id);
        futures::try_join!(
            prefetch(
                ctx,
                selection.field("programmes").exists(),
                ids().map(ProgrammesOfOffice)
            ),
            prefetch(
                ctx,
                selection.field("releaseCount").exists(),
                ids().map(OfficeReleaseStats)
            ),
        )?;
        Ok(offices)
    }

    pub async fn by_slug(db: &DatabaseConnection, slug: &str) -> Result<Option<Office>, ApiError> {
        Ok(office::Entity::find()
            .filter(office::Column::Slug.eq(slug))
            .one(db)
            .await?
            .map(Office))
    }
}

/// An ILO office: the country office that publishes the listings, or another office that releases concern.
#[Object]
impl Office {
    /// Opaque global id of the office: pass it to `Query.node` to fetch the office again.
    pub(crate) async fn id(&self) -> ID {
        GlobalId::Office(self.0.slug.clone()).encode()
    }

    /// Stable short name, e.g. "beijing": use it in `ReleaseFilter.offices` and `Query.office`.
    async fn slug(&self) -> &str {
        &self.0.slug
    }

    /// Full name of the office.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// City the office is in; null when it has no single seat.
    async fn city(&self) -> Option<&str> {
        self.0.city.as_deref()
    }

    /// Countries the office covers; empty for offices with a global or regional remit.
    async fn countries(&self) -> Result<Vec<String>, ApiError> {
        serde_json::from_value(self.0.countries.clone()).map_err(|error| {
            ApiError::Internal(format!(
                "office {}: countries is not a list of strings: {error}",
                self.0.slug
            ))
        })
    }

    /// Programmes the office runs, by name.
    async fn programmes(&self, ctx: &Context<'_>) -> Result<Vec<Programme>, ApiError> {
        let programmes = data_loader(ctx)?
            .load_one(ProgrammesOfOffice(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(programmes.into_iter().map(Programme).collect())
    }

    /// Releases that concern this office, a page at a time; `filter` narrows them further.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    async fn releases(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which releases to list; all of them when omitted.")] filter: Option<
            ReleaseFilter,
        >,
        #[graphql(
            default_with = "Some(ReleaseOrder::NewestFirst)",
            desc = "Order of the releases."
        )]
        order_by: Option<ReleaseOrder>,
        #[graphql(
            desc = "Page forward: at most this many releases (0 to 100) following `after`. Without `first` or `last`, pages hold 20."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Page forward from this cursor (an edge's `cursor` or `pageInfo.endCursor`): only releases after it."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Page backward: at most this many releases (0 to 100) preceding `before`. Cannot be combined with `first`."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Page backward from this cursor (an edge's `cursor` or `pageInfo.startCursor`): only releases before it."
        )]
        before: Option<String>,
    ) -> Result<ReleaseConnection, ApiError> {
        let page = PageArgs {
            first,
            after,
            last,
            before,
        };
        resolve_releases(ctx, Scope::Office(self.0.id), filter, order_by, page).await
    }

    /// Number of releases that concern this office.
    async fn release_count(&self, ctx: &Context<'_>) -> Result<i64, ApiError> {
        Ok(data_loader(ctx)?
            .load_one(OfficeReleaseStats(self.0.id))
            .await?
            .unwrap_or_default()
            .release_count)
    }
}
