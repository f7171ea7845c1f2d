//! The `Programme` type's fields: an ILO programme or project, its offices, and its releases
//! (a connection scoped to the programme, plus statistics that are batch-loaded).

use async_graphql::{Context, ID, Object};

use model::TagKind;

use crate::error::ApiError;
use crate::schema::connection::object_with_releases;
use crate::schema::context::store;
use crate::schema::date::Date;
use crate::schema::loaders::{OfficesOfProgramme, ProgrammeReleaseStats, data_loader, prefetch};
use crate::schema::node::GlobalId;
use crate::schema::objects::{Office, Programme};
use crate::store::criteria::Scope;
use crate::store::tags::ReleaseStats;

impl Programme {
    /// Every programme by name, with what the query will ask of each of them prefetched.
    pub async fn all(ctx: &Context<'_>) -> Result<Vec<Programme>, ApiError> {
        let programmes: Vec<Programme> = store(ctx)?
            .programmes()
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

    pub async fn by_slug(ctx: &Context<'_>, slug: &str) -> Result<Option<Programme>, ApiError> {
        Ok(store(ctx)?.programme_by_slug(slug).await?.map(Programme))
    }

    async fn stats(&self, ctx: &Context<'_>) -> Result<ReleaseStats, ApiError> {
        Ok(data_loader(ctx)?
            .load_one(ProgrammeReleaseStats(self.0.id))
            .await?
            .unwrap_or_default())
    }
}

object_with_releases! {
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
    }
        /// Releases about this programme, a page at a time; `filter` narrows them further.
        releases(self) => Scope::Tag(TagKind::Programme, self.0.id);
        {
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
}
