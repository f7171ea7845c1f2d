//! The `Release` type's fields: one press release. Its programmes and offices come through
//! the batch loader, which the statement that read the release has usually primed already (see
//! `store::tags`); otherwise a whole page costs one query per kind, not one per release.

use async_graphql::{Context, ID, Object};
use uuid::Uuid;

use model::entity::release;

use crate::error::ApiError;
use crate::schema::connection::tag_selection;
use crate::schema::context::store;
use crate::schema::date::Date;
use crate::schema::loaders::{OfficesOfRelease, ProgrammesOfRelease, data_loader, prime};
use crate::schema::node::GlobalId;
use crate::schema::objects::{Office, Programme, Release};
use crate::store::related::{MAX_RELATED, MIN_RELATED};
use crate::store::search::SearchQuery;

impl Release {
    /// The release with `slug`, read together with the programmes and offices that `ctx`'s
    /// field selects of it (one statement).
    pub async fn by_slug(ctx: &Context<'_>, slug: &str) -> Result<Option<Release>, ApiError> {
        let tags = tag_selection(ctx, &[&[]]);
        let Some((model, tags)) = store(ctx)?.release_by_slug(slug, tags).await? else {
            return Ok(None);
        };
        prime(ctx, [(model.id, tags)]).await?;
        Ok(Some(Release::new(model)))
    }

    pub async fn by_id(ctx: &Context<'_>, id: Uuid) -> Result<Option<Release>, ApiError> {
        Ok(store(ctx)?.release_by_id(id).await?.map(Release::new))
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
        Some(highlight(self.1.as_deref()?, &self.0))
    }

    /// Credit line of the release's photo as printed, starting with ©; null when it has none.
    async fn image_credit(&self) -> Option<&str> {
        self.0.image_credit.as_deref()
    }

    /// Programmes and projects the release is about, by name; empty when it names none.
    async fn programmes(&self, ctx: &Context<'_>) -> Result<Vec<Programme>, ApiError> {
        if let Some(programmes) = self.2.as_ref().and_then(|tags| tags.programmes.as_ref()) {
            return Ok(programmes.iter().cloned().map(Programme).collect());
        }
        let programmes = data_loader(ctx)?
            .load_one(ProgrammesOfRelease(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(programmes.into_iter().map(Programme).collect())
    }

    /// ILO offices the release concerns, by name; always includes the office that published it.
    async fn offices(&self, ctx: &Context<'_>) -> Result<Vec<Office>, ApiError> {
        if let Some(offices) = self.2.as_ref().and_then(|tags| tags.offices.as_ref()) {
            return Ok(offices.iter().cloned().map(Office).collect());
        }
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
        #[graphql(
            default_with = "crate::store::related::DEFAULT_RELATED",
            desc = "How many related releases to return: 1 to 20."
        )]
        first: i32,
    ) -> Result<Vec<Release>, ApiError> {
        if !(MIN_RELATED..=MAX_RELATED).contains(&first) {
            return Err(ApiError::RelatedCountOutOfRange(first));
        }
        let related = store(ctx)?
            .related(self.0.id, &self.0.title, u64::from(first.unsigned_abs()))
            .await?;
        Ok(related.into_iter().map(Release::new).collect())
    }
}

/// What `Release.highlight` shows of `release`, found by `search`: its summary, or its title
/// when the summary has no match (or there is none), with the matching words marked.
pub fn highlight(search: &SearchQuery, release: &release::Model) -> String {
    let summary = release.summary.as_deref().filter(|s| !s.trim().is_empty());
    let title = &release.title;
    match summary {
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
    }
}

/// Cost of `related`: like a page, proportional to how many releases it returns.
pub fn related_complexity(first: i32, child_complexity: usize) -> usize {
    usize::try_from(first.clamp(MIN_RELATED, MAX_RELATED))
        .unwrap_or(1)
        .saturating_mul(child_complexity)
        .saturating_add(1)
}
