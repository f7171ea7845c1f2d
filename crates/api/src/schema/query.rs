//! The `Query` root: entry points into the archive.

use async_graphql::{Context, ID, Object};

use crate::error::ApiError;
use crate::schema::connection::object_with_releases;
use crate::schema::facets::{ReleaseFacets, release_facets};
use crate::schema::filter::ReleaseFilter;
use crate::schema::node::{GlobalId, Node};
use crate::schema::objects::{Office, Programme, Release};
use crate::schema::suggestions::{SearchSuggestions, search_suggestions};
use crate::store::criteria::Scope;

#[derive(Debug, Default)]
pub struct Query;

object_with_releases! {
    /// The press-release archive of the ILO Country Office for China and Mongolia.
    #[Object]
    impl Query {
    }
    /// Press releases, a page at a time: newest first unless `orderBy` says otherwise.
    releases(self) => Scope::Archive;
    {
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

        /// Suggestions for a search box as the user types `text`: completions of the word being
        /// typed, each with how many releases the completed search finds under `filter`, and the
        /// programmes and offices whose name, acronym or slug contain the text. An empty text
        /// gives empty lists.
        async fn search_suggestions(
            &self,
            ctx: &Context<'_>,
            #[graphql(desc = "What the user has typed so far (at most 500 characters).")] text: String,
            #[graphql(desc = "The other criteria of the search page (not `search`): counts are under them.")]
            filter: Option<ReleaseFilter>,
            #[graphql(default = 8, desc = "How many of each kind to suggest, 1 to 20.")] first: i32,
        ) -> Result<SearchSuggestions, ApiError> {
            search_suggestions(ctx, text, filter, first).await
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
            Programme::by_slug(ctx, &slug).await
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
            Office::by_slug(ctx, &slug).await
        }

        /// The release, programme or office with this global id; null when it no longer exists.
        async fn node(
            &self,
            ctx: &Context<'_>,
            #[graphql(desc = "The object's `id`, exactly as received from this API.")] id: ID,
        ) -> Result<Option<Node>, ApiError> {
            Ok(match GlobalId::decode(&id)? {
                GlobalId::Release(id) => Release::by_id(ctx, id).await?.map(Node::Release),
                GlobalId::Programme(slug) => Programme::by_slug(ctx, &slug).await?.map(Node::Programme),
                GlobalId::Office(slug) => Office::by_slug(ctx, &slug).await?.map(Node::Office),
            })
        }
    }
}
