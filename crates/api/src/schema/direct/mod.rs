//! Queries answered without the schema's field-by-field execution. A document whose fields
//! are all plain reads (a page of releases, a release by slug with its tags and related
//! releases, the facets) is compiled once into a `Plan` (`plan`), kept by its text; later
//! requests with the same text are parsed by nobody, run the resolvers' own reads of the
//! store, and are written straight to JSON (`answer`). A plan exists only for a document that
//! the schema has already answered without errors, so it has passed validation and the
//! guard's document limits; each run coerces its variables with the schema's own input types
//! and bounds its cost, and leaves anything it cannot answer exactly as the schema would to
//! the schema (`Fallback`). A database that cannot be read (unreachable, or a statement past
//! its timeout) is answered with the schema's error for it (`Planned::Failed`), so an outage
//! does not cost each request a second attempt.

use std::sync::Arc;

use async_graphql::Variables;
use async_graphql::parser::types::ExecutableDocument;
use quick_cache::Weighter;
use quick_cache::sync::Cache;

use crate::ops::limits::Limits;
use crate::store::Store;

mod answer;
mod plan;

pub use answer::{Fallback, Planned};
pub use plan::Plan;

/// Room for the plans, counted as the length of their documents' text; plans take a few
/// times that.
const PLAN_CACHE_BYTES: u64 = 4 * 1024 * 1024;
/// About how many documents a deployment's clients send.
const ESTIMATED_DOCUMENTS: usize = 256;

/// What is known of a document, by its text.
#[derive(Debug)]
pub struct Compiled {
    /// The operation the plan is for (the request's `operationName`).
    operation_name: Option<String>,
    /// `None`: the document has no plan; requests with it run through the schema.
    plan: Option<Plan>,
}

#[derive(Debug, Clone)]
struct DocumentWeight;

impl Weighter<String, Arc<Compiled>> for DocumentWeight {
    fn weight(&self, text: &String, _: &Arc<Compiled>) -> u64 {
        u64::try_from(text.len()).unwrap_or(u64::MAX).max(1)
    }
}

/// The plans of the documents seen, the least recently used dropped first.
#[derive(Clone)]
pub struct Plans {
    documents: Arc<Cache<String, Arc<Compiled>, DocumentWeight>>,
    limits: Arc<Limits>,
}

impl std::fmt::Debug for Plans {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plans")
            .field("documents", &self.documents.len())
            .finish()
    }
}

/// What the plans say of a request.
#[derive(Debug)]
pub enum Lookup {
    /// Its document has a plan for its operation.
    Plan(Arc<Compiled>),
    /// Its document has been seen and has no plan.
    NoPlan,
    /// Its document (or this operation of it) has not been compiled yet.
    Unknown,
}

impl Plans {
    pub fn new(limits: Arc<Limits>) -> Plans {
        Plans {
            documents: Arc::new(Cache::with_weighter(
                ESTIMATED_DOCUMENTS,
                PLAN_CACHE_BYTES,
                DocumentWeight,
            )),
            limits,
        }
    }

    pub fn lookup(&self, query: &str, operation_name: Option<&str>) -> Lookup {
        match self.documents.get(query) {
            Some(compiled) if compiled.operation_name.as_deref() == operation_name => {
                if compiled.plan.is_some() {
                    Lookup::Plan(compiled)
                } else {
                    Lookup::NoPlan
                }
            }
            _ => Lookup::Unknown,
        }
    }

    /// What `document` compiles to for `operation_name`, to `learn` once the schema has
    /// answered it without errors.
    pub fn compile(&self, document: &ExecutableDocument, operation_name: Option<&str>) -> Compiled {
        let plan = plan::compile(document, operation_name, &self.limits)
            .inspect_err(|why| tracing::debug!(why, "a document without a plan"))
            .ok();
        Compiled {
            operation_name: operation_name.map(str::to_owned),
            plan,
        }
    }

    pub fn learn(&self, query: String, compiled: Compiled) {
        self.documents.insert(query, Arc::new(compiled));
    }
}

impl Compiled {
    /// The operation's name, for the request log.
    pub fn operation(&self) -> Option<&str> {
        self.plan
            .as_ref()
            .and_then(|plan| plan.operation.as_deref())
    }

    /// The response of this document's plan for `variables`, read from `store`.
    pub async fn answer(
        &self,
        variables: &Variables,
        store: &Store,
        limits: &Limits,
    ) -> Result<Planned, Fallback> {
        let plan = self.plan.as_ref().ok_or(Fallback("no plan"))?;
        answer::answer(plan, variables, store, limits).await
    }
}
