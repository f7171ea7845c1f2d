//! Live updates: the changes of the archive delivered to subscribers as they commit, in the
//! order of the change log (`release_change.seq`), each at most once, with a replay of what a
//! subscriber missed. It knows neither GraphQL nor HTTP: `schema::subscription` turns its
//! events into GraphQL, and the transports in `http/` carry them.
//!
//! - `hub`: one task per process follows the archive's changes (`ops::archive_changes`); on
//!   every commit that logged changes it reads them once, for everybody, with their releases
//!   and tags, runs one search per distinct search text among the subscribers, matches every
//!   distinct filter in memory and hands each subscriber its share;
//! - `follower`: one subscriber's stream: registered with the hub first, then the replay of
//!   what it missed read from the log, then the live deliveries, de-duplicated by position, any
//!   gap read from the log again.
//!
//! SQLite cannot tell a server about writes made by another process (`ingest`): there the
//! hub is off and every subscription is refused (`Unavailable::Sqlite`).

use std::sync::Arc;

use tokio::sync::watch;
use uuid::Uuid;

use model::entity::release_change::ChangeKind;

use crate::ops::archive_changes::ArchiveChanges;
use model::entity::release;

use crate::store::criteria::Criteria;
use crate::store::tags::EmbeddedTags;
use crate::store::{Store, StoreError};

mod follower;
mod hub;

pub use follower::EventStream;

/// Changes read from the log per statement, by the hub and by every replay.
pub(crate) const PAGE: u64 = 500;

/// A change as subscribers receive it: its place in the stream, what happened, and the release
/// as it was read after the commit (with its programmes and offices), unless it is gone.
#[derive(Debug)]
pub struct LiveEvent {
    pub seq: i64,
    pub kind: ChangeKind,
    pub release_id: Uuid,
    /// `None` for a removal. The tags are shared by every subscriber the event goes to.
    pub release: Option<(release::Model, Arc<EmbeddedTags>)>,
}

/// What a subscriber asks for: releases matching `criteria` (resolved as for a `releases`
/// list), changes of `kinds`.
#[derive(Debug, Clone)]
pub struct LiveFilter {
    pub criteria: Criteria,
    /// The search as the client typed it: subscribers with the same text share one search.
    pub search_text: Option<String>,
    /// Distinct, in `ChangeKind::ALL` order.
    pub kinds: Vec<ChangeKind>,
}

/// Where a subscription starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// With the first change committed after it subscribed.
    Now,
    /// Just after the change at this position (an event's cursor).
    AfterChange(i64),
    /// Just after the last change of this release (a `releases` cursor).
    AfterRelease(Uuid),
}

/// Limits of the live updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveSettings {
    /// Most events that may wait for one subscriber when the next commit's are handed out;
    /// past it the subscriber is cut off.
    pub max_queued_events: usize,
}

/// Why this server cannot deliver live updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// The archive is a SQLite file, which cannot notify anyone of another process's writes.
    Sqlite,
    /// The server was built without following the archive's changes.
    NotFollowing,
}

/// Why a subscription cannot start or go on.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LiveError {
    #[error(
        "live updates need the PostgreSQL archive: SQLite cannot tell this server about releases that `ingest` writes from another process; poll `releases` (newest first) instead"
    )]
    Sqlite,
    #[error(
        "this server does not follow the archive's changes, so it cannot deliver live updates: poll `releases` (newest first) instead"
    )]
    NotFollowing,
    #[error(
        "the cursor in `after` is ahead of the archive's newest change ({latest}): pass a cursor exactly as received from this archive, or leave `after` out"
    )]
    CursorAhead { latest: i64 },
    #[error(
        "the cursor in `after` names a release this archive never held: pass a cursor exactly as received from this archive, or leave `after` out"
    )]
    UnknownRelease,
    #[error(
        "more than {limit} events waited for this client, which was cut off: subscribe again with `after` set to the cursor of the last event received, and read faster"
    )]
    SlowConsumer { limit: usize },
    #[error("the change log could not be read")]
    Store(#[from] StoreError),
}

/// Tells the transport that carries a subscription to cut its client off, and why: the hub
/// cannot reach a client that has stopped reading through the stream itself.
#[derive(Debug, Clone)]
pub struct Cutoff {
    reason: Arc<watch::Sender<Option<LiveError>>>,
}

impl Default for Cutoff {
    fn default() -> Self {
        Cutoff {
            reason: Arc::new(watch::channel(None).0),
        }
    }
}

impl Cutoff {
    /// Asks the transport to cut the client off for `reason` (the first reason stays).
    pub fn trigger(&self, reason: LiveError) {
        self.reason.send_if_modified(|current| {
            if current.is_some() {
                return false;
            }
            *current = Some(reason);
            true
        });
    }

    /// Completes with the reason once the client is to be cut off.
    pub async fn triggered(&self) -> LiveError {
        let mut reason = self.reason.subscribe();
        loop {
            if let Some(reason) = reason.borrow_and_update().clone() {
                return reason;
            }
            // The sender lives in `self`, so this only waits.
            if reason.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

/// The live updates of one server; cloning shares them.
#[derive(Debug, Clone)]
pub struct LiveUpdates {
    hub: Result<Arc<hub::Hub>, Unavailable>,
}

impl LiveUpdates {
    /// Live updates refused for `reason`.
    pub fn off(reason: Unavailable) -> LiveUpdates {
        LiveUpdates { hub: Err(reason) }
    }

    /// Live updates of the archive in `store`, following `changes`.
    pub fn follow(store: Store, changes: &ArchiveChanges, settings: LiveSettings) -> LiveUpdates {
        LiveUpdates {
            hub: Ok(hub::Hub::start(store, changes, settings)),
        }
    }

    /// Whether subscriptions can be served, before anything else is checked.
    pub fn check(&self) -> Result<(), LiveError> {
        self.hub().map(|_| ())
    }

    fn hub(&self) -> Result<&Arc<hub::Hub>, LiveError> {
        self.hub.as_ref().map_err(|reason| match reason {
            Unavailable::Sqlite => LiveError::Sqlite,
            Unavailable::NotFollowing => LiveError::NotFollowing,
        })
    }

    /// The events matching `filter` from `start` on: the replay first, then live ones. The
    /// transport is told through `cutoff` if the subscriber falls too far behind.
    pub async fn subscribe(
        &self,
        filter: LiveFilter,
        start: Start,
        cutoff: Option<Cutoff>,
    ) -> Result<EventStream, LiveError> {
        let hub = Arc::clone(self.hub()?);
        follower::follow(hub, filter, start, cutoff).await
    }

    /// Ends every stream, now and from now on (the server is stopping).
    pub fn shut_down(&self) {
        if let Ok(hub) = &self.hub {
            hub.shut_down();
        }
    }

    /// How many subscriptions are following live changes, for `/metrics`.
    pub fn subscriptions(&self) -> usize {
        self.hub.as_ref().map_or(0, |hub| hub.subscriptions())
    }
}
