//! The `Query` root: entry points into the archive.

use async_graphql::{Context, ID, Object};

use crate::error::ApiError;
use crate::schema::connection::{
    PageArgs, ReleaseConnection, ReleaseOrder, page_complexity, resolve_releases,
};
use crate::schema::database;
use crate::schema::facets::{ReleaseFacets, release_facets};
use crate::schema::filter::{ReleaseFilter, Scope};
use crate::schema::node::{GlobalId, Node};
use crate::schema::office::Office;
use crate::schema::programme::Programme;
use crate::schema::release::Release;

#[derive(Debug, Default)]
pub struct Query;

/// The press-release archive of the ILO Country Office for China and Mongolia.
#[Object]
impl Query {
    /// Press releases, a page at a time: newest first unless `orderBy` says otherwise.
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
        resolve_releases(ctx, Scope::Archive, filter, order_by, page).await
    }

    /// How many releases match `filter`, in total and by year, month, programme and office.
    /// Each breakdown applies every criterion except its own, as faceted search does.
    async fn release_facets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which releases to count; all of them when omitted.")] filter: Option<
            ReleaseFilter,
        >,
    ) -> Result<ReleaseFacets, ApiError> {
        release_facets(ctx, filter).await
    }

    /// The release with this slug; null when there is none.
    async fn release(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The release's `slug`.")] slug: String,
    ) -> Result<Option<Release>, ApiError> {
        Release::by_slug(ctx, &slug).await
    }

    /// Every programme, by name.
    async fn programmes(&self, ctx: &Context<'_>) -> Result<Vec<Programme>, ApiError> {
        Programme::all(ctx).await
    }

    /// The programme with this slug, e.g. "score"; null when there is none.
    async fn programme(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The programme's `slug`.")] slug: String,
    ) -> Result<Option<Programme>, ApiError> {
        Programme::by_slug(database(ctx)?, &slug).await
    }

    /// Every office, by name.
    async fn offices(&self, ctx: &Context<'_>) -> Result<Vec<Office>, ApiError> {
        Office::all(ctx).await
    }

    /// The office with this slug, e.g. "beijing"; null when there is none.
    async fn office(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The office's `slug`.")] slug: String,
    ) -> Result<Option<Office>, ApiError> {
        Office::by_slug(database(ctx)?, &slug).await
    }

    /// The release, programme or office with this global id; null when it no longer exists.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The object's `id`, exactly as received from this API.")] id: ID,
    ) -> Result<Option<Node>, ApiError> {
        let db = database(ctx)?;
        Ok(match GlobalId::decode(&id)? {
            GlobalId::Release(id) => Release::by_id(db, id).await?.map(Node::Release),
            GlobalId::Programme(slug) => Programme::by_slug(db, &slug).await?.map(Node::Programme),
            GlobalId::Office(slug) => Office::by_slug(db, &slug).await?.map(Node::Office),
        })
    }
}
