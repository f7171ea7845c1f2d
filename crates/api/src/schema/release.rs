//! The `Release` type: one press release. Its programmes and offices come through the batch
//! loader, which the statement that read the release has usually primed already (see
//! `embedded_tags`); otherwise a whole page costs one query per kind, not one per release.

use std::sync::Arc;

use async_graphql::{Context, ID, Object};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter,
    QuerySelect, QueryTrait,
};
use uuid::Uuid;

use model::entity::release;

use crate::error::ApiError;
use crate::schema::date::Date;
use crate::schema::embedded_tags::{self, EmbeddedTags, TagSelection};
use crate::schema::loaders::{OfficesOfRelease, ProgrammesOfRelease};
use crate::schema::node::GlobalId;
use crate::schema::office::Office;
use crate::schema::programme::Programme;
use crate::schema::related::{MAX_RELATED, MIN_RELATED, related_releases};
use crate::schema::search::SearchQuery;
use crate::schema::{data_loader, database};

/// A release, and the search that found it when it comes from a searched list (for
/// `highlight`; shared by the whole page, so cloning stays cheap).
#[derive(Debug, Clone)]
pub struct Release(pub release::Model, pub Option<Arc<SearchQuery>>);

impl From<release::Model> for Release {
    fn from(model: release::Model) -> Self {
        Release::new(model)
    }
}

impl Release {
    /// A release not found by a search: its `highlight` is null.
    pub fn new(model: release::Model) -> Release {
        Release(model, None)
    }

    /// A release found by `search`.
    pub fn found_by(model: release::Model, search: Option<Arc<SearchQuery>>) -> Release {
        Release(model, search)
    }

    /// The release with `slug`, read together with the programmes and offices that `ctx`'s
    /// field selects of it (one statement).
    pub async fn by_slug(ctx: &Context<'_>, slug: &str) -> Result<Option<Release>, ApiError> {
        let db = database(ctx)?;
        let backend = db.get_database_backend();
        let tags = TagSelection::of_field(ctx, &[&[]]);
        let query = release::Entity::find()
            .filter(release::Column::Slug.eq(slug))
            .limit(1);
        let Some(row) = db
            .query_one_raw(tags.add_columns(query, backend).build(backend))
            .await?
        else {
            return Ok(None);
        };
        let model = release::Model::from_query_result(&row, "")?;
        embedded_tags::prime(ctx, [(model.id, EmbeddedTags::read(&row, tags))]).await?;
        Ok(Some(Release::new(model)))
    }

    pub async fn by_id(db: &DatabaseConnection, id: Uuid) -> Result<Option<Release>, ApiError> {
        Ok(release::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(Release::new))
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

    /// When the release was found by `ReleaseFilter.search`: its summary, or its title when
    /// the summary has no match (or there is no summary), HTML-escaped, with the words that
    /// match the search wrapped in `<mark>`…`</mark>`; safe to insert as HTML. Null when the
    /// list was not searched.
    async fn highlight(&self) -> Option<String> {
        let search = self.1.as_deref()?;
        let summary = self.0.summary.as_deref().filter(|s| !s.trim().is_empty());
        let title = &self.0.title;
        Some(match summary {
            Some(summary) => {
                let (marked_summary, marked) = search.highlight(summary);
                if marked {
                    marked_summary
                } else {
                    match search.highlight(title) {
                        (marked_title, true) => marked_title,
                        _ => marked_summary,
                    }
                }
            }
            None => search.highlight(title).0,
        })
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

    /// The releases most like this one, best first: by shared programmes, then offices named
    /// in both, then text similarity. Never this release itself. Meant for a single release's
    /// page: each release it is asked on costs its own queries.
    #[graphql(complexity = "related_complexity(first, child_complexity)")]
    async fn related(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 5, desc = "How many related releases to return: 1 to 20.")] first: i32,
    ) -> Result<Vec<Release>, ApiError> {
        let db = database(ctx)?;
        let related = related_releases(db, &self.0, first).await?;
        Ok(related.into_iter().map(Release::new).collect())
    }
}

/// Cost of `related`: like a page, proportional to how many releases it returns.
fn related_complexity(first: i32, child_complexity: usize) -> usize {
    usize::try_from(first.clamp(MIN_RELATED, MAX_RELATED))
        .unwrap_or(1)
        .saturating_mul(child_complexity)
        .saturating_add(1)
}
