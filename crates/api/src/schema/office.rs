//! The `Office` type's fields: an ILO office, the programmes it runs, and the releases that
//! concern it (a connection scoped to the office, with a batch-loaded count).

use async_graphql::{Context, ID, Object};

use model::TagKind;

use crate::error::ApiError;
use crate::schema::connection::object_with_releases;
use crate::schema::context::store;
use crate::schema::loaders::{OfficeReleaseStats, ProgrammesOfOffice, data_loader, prefetch};
use crate::schema::node::GlobalId;
use crate::schema::objects::{Office, Programme};
use crate::store::criteria::Scope;

impl Office {
    /// Every office by name, with what the query will ask of each of them prefetched.
    pub async fn all(ctx: &Context<'_>) -> Result<Vec<Office>, ApiError> {
        let offices: Vec<Office> = store(ctx)?
            .offices()
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

    pub async fn by_slug(ctx: &Context<'_>, slug: &str) -> Result<Option<Office>, ApiError> {
        Ok(store(ctx)?.office_by_slug(slug).await?.map(Office))
    }
}

object_with_releases! {
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
    }
    /// Releases that concern this office, a page at a time; `filter` narrows them further.
    releases(self) => Scope::Tag(TagKind::Office, self.0.id);
    {
        /// Number of releases that concern this office.
        async fn release_count(&self, ctx: &Context<'_>) -> Result<i64, ApiError> {
            Ok(data_loader(ctx)?
                .load_one(OfficeReleaseStats(self.0.id))
                .await?
                .unwrap_or_default()
                .release_count)
        }
    }
}
