//! The `Programme` type: an ILO programme or project, its offices, and its releases (a
//! connection scoped to the programme, plus statistics that are batch-loaded).

use async_graphql::{Context, ID, Object};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use model::entity::programme;

use crate::error::ApiError;
use crate::schema::connection::{
    PageArgs, ReleaseConnection, ReleaseOrder, page_complexity, resolve_releases,
};
use crate::schema::date::Date;
use crate::schema::filter::{ReleaseFilter, Scope};
use crate::schema::loaders::{OfficesOfProgramme, ProgrammeReleaseStats, ReleaseStats, prefetch};
use crate::schema::node::GlobalId;
use crate::schema::office::Office;
use crate::schema::{data_loader, database};

#[derive(Debug, Clone)]
pub struct Programme(pub programme::Model);

impl Programme {
    /// Every programme by name, with what the query will ask of each of them prefetched.
    pub async fn all(ctx: &Context<'_>) -> Result<Vec<Programme>, ApiError> {
        let programmes: Vec<Programme> = programme::Entity::find()
            .order_by_asc(programme::Column::Name)
            .order_by_asc(programme::Column::Slug)
            .all(database(ctx)?)
            .await?
            .into_iter()
            .map(Programme)
            .collect();
        let selection = ctx.look_ahead();
        let ids = || programmes.iter().map(|programme| programme.0.id);
        let wants_stats = ["releaseCount", "firstPublishedOn", "lastPublishedOn"]
            .iter()
            .any(|field| selection.field(field).exists());
        futures::try_join!(
            prefetch(
                ctx,
                selection.field("offices").exists(),
                ids().map(OfficesOfProgramme)
            ),
            prefetch(ctx, wants_stats, ids().map(ProgrammeReleaseStats)),
        )?;
        Ok(programmes)
    }

    pub async fn by_slug(
        db: &DatabaseConnection,
        slug: &str,
    ) -> Result<Option<Programme>, ApiError> {
        Ok(programme::Entity::find()
            .filter(programme::Column::Slug.eq(slug))
            .one(db)
            .await?
            .map(Programme))
    }

    async fn stats(&self, ctx: &Context<'_>) -> Result<ReleaseStats, ApiError> {
        Ok(data_loader(ctx)?
            .load_one(ProgrammeReleaseStats(self.0.id))
            .await?
            .unwrap_or_default())
    }
}

/// An ILO programme or project that releases are about, e.g. SCORE.
#[Object]
impl Programme {
    /// Opaque global id of the programme: pass it to `Query.node` to fetch the programme again.
    pub(crate) async fn id(&self) -> ID {
        GlobalId::Programme(self.0.slug.clone()).encode()
    }

    /// Stable short name, e.g. "score": use it in `ReleaseFilter.programmes` and `Query.programme`.
    async fn slug(&self) -> &str {
        &self.0.slug
    }

    /// Full name of the programme.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Usual abbreviation, e.g. "SCORE"; null when it has none.
    async fn acronym(&self) -> Option<&str> {
        self.0.acronym.as_deref()
    }

    /// What the programme does, in a sentence or two.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// Offices that run the programme, by name.
    async fn offices(&self, ctx: &Context<'_>) -> Result<Vec<Office>, ApiError> {
        let offices = data_loader(ctx)?
            .load_one(OfficesOfProgramme(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(offices.into_iter().map(Office).collect())
    }

    /// Releases about this programme, a page at a time; `filter` narrows them further.
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
        resolve_releases(ctx, Scope::Programme(self.0.id), filter, order_by, page).await
    }

    /// Number of releases about this programme.
    async fn release_count(&self, ctx: &Context<'_>) -> Result<i64, ApiError> {
        Ok(self.stats(ctx).await?.release_count)
    }

    /// Publication date of the first release about this programme; null when there is none.
    async fn first_published_on(&self, ctx: &Context<'_>) -> Result<Option<Date>, ApiError> {
        Ok(self.stats(ctx).await?.first_published_on.map(Date))
    }

    /// Publication date of the latest release about this programme; null when there is none.
    async fn last_published_on(&self, ctx: &Context<'_>) -> Result<Option<Date>, ApiError> {
        Ok(self.stats(ctx).await?.last_published_on.map(Date))
    }
}
