//! The object types of the schema that refer to one another (a release's programmes, a
//! programme's offices and releases, …), declared together so that the modules resolving their
//! fields (`release`, `programme`, `office`) depend on this one and never on each other.

use std::sync::Arc;

use model::entity::{office, programme, release};

use crate::store::search::SearchQuery;
use crate::store::tags::EmbeddedTags;

/// A release, the search that found it when it comes from a searched list (for `highlight`;
/// shared by the whole page, so cloning stays cheap), and its programmes and offices when they
/// were read with it outside a request's loader (a live event's, shared by its subscribers).
/// Fields: `release`.
#[derive(Debug, Clone)]
pub struct Release(
    pub release::Model,
    pub Option<Arc<SearchQuery>>,
    pub Option<Arc<EmbeddedTags>>,
);

impl Release {
    /// A release not found by a search: its `highlight` is null.
    pub fn new(model: release::Model) -> Release {
        Release(model, None, None)
    }

    /// A release found by `search`.
    pub fn found_by(model: release::Model, search: Option<Arc<SearchQuery>>) -> Release {
        Release(model, search, None)
    }
}

impl From<release::Model> for Release {
    fn from(model: release::Model) -> Self {
        Release::new(model)
    }
}

/// A programme. Fields: `programme`.
#[derive(Debug, Clone)]
pub struct Programme(pub programme::Model);

/// An office. Fields: `office`.
#[derive(Debug, Clone)]
pub struct Office(pub office::Model);
