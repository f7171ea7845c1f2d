//! The `Subscription` root: the archive's changes, live. A subscription is served by the
//! process's hub (`crate::live`); this module checks its arguments as `releases` does (the same
//! `ReleaseFilter`, resolved the same way), reads its `after` cursor, counts it against its
//! connection's allowance, and turns the hub's events into `ReleaseEvent`s.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::{Context, Enum, ID, Object, Subscription as GraphqlSubscription};
use futures::{Stream, StreamExt};

use model::entity::release_change::ChangeKind;

use crate::error::ApiError;
use crate::live::{Cutoff, LiveEvent, LiveFilter, LiveUpdates, Start};
use crate::schema::context::store;
use crate::schema::cursor::{self, StreamCursor};
use crate::schema::filter::ReleaseFilter;
use crate::schema::node::GlobalId;
use crate::schema::objects::Release;
use crate::store::search::SearchQuery;

/// The subscriptions one connection may carry, shared by them (a WebSocket connection's data).
#[derive(Debug, Clone)]
pub struct SubscriptionAllowance {
    active: Arc<AtomicUsize>,
    limit: usize,
}

impl SubscriptionAllowance {
    pub fn new(limit: usize) -> SubscriptionAllowance {
        SubscriptionAllowance {
            active: Arc::new(AtomicUsize::new(0)),
            limit,
        }
    }

    /// One more subscription, given back when the permit is dropped; refused at the limit.
    fn take(&self) -> Result<AllowancePermit, ApiError> {
        self.active
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |active| {
                (active < self.limit).then_some(active + 1)
            })
            .map(|_| AllowancePermit(Arc::clone(&self.active)))
            .map_err(|_| ApiError::TooManySubscriptions { limit: self.limit })
    }
}

/// One subscription's place in its connection's allowance.
#[derive(Debug)]
struct AllowancePermit(Arc<AtomicUsize>);

impl Drop for AllowancePermit {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What happened to a release.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseEventKind {
    /// The release entered the archive. A release is published once, whatever its date (an
    /// old release ingested today is published today); one that was removed and comes back is
    /// published again.
    Published,
    /// An ingest changed what a reader sees of a release already in the archive: the spelling
    /// of its title, its summary, image credit, programmes or offices. Re-ingesting a release
    /// unchanged sends nothing. Sent to subscriptions whose filter matches the release as it
    /// is after the change.
    Updated,
    /// A pruning ingest removed the release: `release` is null, `releaseId` says which it was.
    /// Sent to every subscription that asks for removals, whatever its filter (a removed
    /// release can no longer be matched): ignore ids you do not hold.
    Removed,
}

impl From<ReleaseEventKind> for ChangeKind {
    fn from(kind: ReleaseEventKind) -> ChangeKind {
        match kind {
            ReleaseEventKind::Published => ChangeKind::Published,
            ReleaseEventKind::Updated => ChangeKind::Updated,
            ReleaseEventKind::Removed => ChangeKind::Removed,
        }
    }
}

impl From<ChangeKind> for ReleaseEventKind {
    fn from(kind: ChangeKind) -> ReleaseEventKind {
        match kind {
            ChangeKind::Published => ReleaseEventKind::Published,
            ChangeKind::Updated => ReleaseEventKind::Updated,
            ChangeKind::Removed => ReleaseEventKind::Removed,
        }
    }
}

/// A change to one release, in the order the archive committed it.
#[derive(Debug)]
pub struct ReleaseEvent {
    event: Arc<LiveEvent>,
    /// The subscription's search, for `Release.highlight`.
    search: Option<Arc<SearchQuery>>,
}

/// A change to one release, in the order the archive committed it: what happened, where it
/// stands in the stream (`cursor`), and the release as it is after the change.
#[Object]
impl ReleaseEvent {
    /// What happened.
    async fn kind(&self) -> ReleaseEventKind {
        self.event.kind.into()
    }

    /// Position of this event in the archive's stream of changes: pass it as `after` when
    /// subscribing again to receive exactly the events that follow it.
    async fn cursor(&self) -> String {
        cursor::encode_event(self.event.seq)
    }

    /// The release's global id, the same as `Release.id`; given for removals too.
    async fn release_id(&self) -> ID {
        GlobalId::Release(self.event.release_id).encode()
    }

    /// The release as it was read just after the change; null when it was removed.
    async fn release(&self) -> Option<Release> {
        let (model, tags) = self.event.release.as_ref()?;
        Some(Release(
            model.clone(),
            self.search.clone(),
            Some(Arc::clone(tags)),
        ))
    }
}

#[derive(Debug, Default)]
pub struct Subscription;

/// Live updates of the archive: over WebSocket (`graphql-transport-ws`) or Server-Sent Events
/// (`graphql-sse`, distinct connections) on `/graphql`. Only the PostgreSQL archive delivers
/// them; a server on the embedded SQLite archive refuses every subscription with
/// SUBSCRIPTIONS_UNAVAILABLE.
#[GraphqlSubscription]
impl Subscription {
    /// Every change to a release matching `filter`, in the order the archive committed them,
    /// each once, from the moment of subscribing (or from `after`). Events come within about a
    /// second of an ingest's commit. The filter is the one `releases` takes, matched by the
    /// same rules (a search finds exactly what `releases(filter: {search})` would list).
    async fn release_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which releases to follow; all of them when omitted.")] filter: Option<
            ReleaseFilter,
        >,
        #[graphql(desc = "Which kinds of change to send; all three when omitted.")] kinds: Option<
            Vec<ReleaseEventKind>,
        >,
        #[graphql(
            desc = "Resume from here: an event's `cursor` (every later matching event is sent, then live ones: nothing missed, nothing twice), or a cursor from `releases` (every matching change after that release's last change; releases ingested after it that the page already showed may come again)."
        )]
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<ReleaseEvent, async_graphql::Error>> + use<>, ApiError>
    {
        let live = ctx.data::<LiveUpdates>().map_err(|_| {
            ApiError::Internal("the schema was built without live updates".to_owned())
        })?;
        live.check()?;
        let permit = ctx
            .data_opt::<SubscriptionAllowance>()
            .map(SubscriptionAllowance::take)
            .transpose()?;
        let kinds = event_kinds(kinds)?;
        let start = match after {
            None => Start::Now,
            Some(text) => match cursor::decode_stream(&text, "after")? {
                StreamCursor::Event(seq) => Start::AfterChange(seq),
                StreamCursor::Release(id) => Start::AfterRelease(id),
            },
        };
        let filter = filter.unwrap_or_default();
        let criteria = filter.resolve(store(ctx)?).await?;
        let search = criteria.search.clone();
        let live_filter = LiveFilter {
            criteria,
            search_text: filter.search.clone(),
            kinds,
        };
        let cutoff = ctx.data_opt::<Cutoff>().cloned();
        let events = live.subscribe(live_filter, start, cutoff).await?;
        Ok(events.map(move |event| {
            // Held as long as the stream: the connection's allowance comes back when it ends.
            let _permit = &permit;
            event
                .map(|event| ReleaseEvent {
                    event,
                    search: search.clone(),
                })
                // Cloneable, as a stream's errors must be; the code and message stay.
                .map_err(|error| async_graphql::Error::from(ApiError::from(error)))
        }))
    }
}

/// The kinds asked for, distinct and in a fixed order; all of them when not given.
fn event_kinds(kinds: Option<Vec<ReleaseEventKind>>) -> Result<Vec<ChangeKind>, ApiError> {
    let Some(kinds) = kinds else {
        return Ok(ChangeKind::ALL.to_vec());
    };
    let asked: Vec<ChangeKind> = kinds.into_iter().map(ChangeKind::from).collect();
    let kinds: Vec<ChangeKind> = ChangeKind::ALL
        .into_iter()
        .filter(|kind| asked.contains(kind))
        .collect();
    if kinds.is_empty() {
        return Err(ApiError::NoEventKinds);
    }
    Ok(kinds)
}
