//! One subscriber's stream. It joins the hub before reading anything, so that no commit falls
//! between its replay and its first delivery; then reads the replay from the log, a page at a
//! time as the client takes events; then takes the hub's deliveries. Its position is the last
//! change it has handled: a delivery that ends at or before it is skipped (nothing twice), and
//! one that starts after it (a gap, e.g. a round that ran before the hub knew where the log
//! ended) is preceded by reading the gap from the log (nothing missed).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::watch;
use uuid::Uuid;

use model::entity::release_change::ChangeKind;

use crate::live::hub::{Delivery, Hub, Membership, read_events};
use crate::live::{Cutoff, LiveError, LiveEvent, LiveFilter, PAGE, Start};

/// Joins `hub` with `filter` and positions the subscriber at `start`.
pub(crate) async fn follow(
    hub: Arc<Hub>,
    filter: LiveFilter,
    start: Start,
    cutoff: Option<Cutoff>,
) -> Result<EventStream, LiveError> {
    // Starting now, the position is where the hub's next delivery starts; before the hub
    // knows, the end of the log read before joining (a delivery starting later is a gap, read
    // from the log).
    let before_joining = match start {
        Start::Now => Some(hub.store.latest_change().await?),
        Start::AfterChange(_) | Start::AfterRelease(_) => None,
    };
    let membership = hub.join(filter, cutoff);
    let closed = hub.closed();
    let mut follower = Follower {
        hub,
        membership,
        closed,
        position: 0,
        replay_to: None,
        held: None,
        pending: VecDeque::new(),
        finished: false,
    };
    if let Some(latest) = before_joining {
        follower.position = latest.max(follower.membership.handed_out.unwrap_or(latest));
        return Ok(into_stream(follower));
    }
    // Read after joining: whatever commits from now on is handed to this member.
    let latest = follower.hub.store.latest_change().await?;
    match start {
        Start::Now => follower.position = latest,
        Start::AfterChange(seq) => {
            if seq > latest {
                return Err(LiveError::CursorAhead { latest });
            }
            follower.position = seq;
            follower.replay_to = Some(latest);
        }
        Start::AfterRelease(id) => {
            let seq = last_change_of(&follower, id).await?;
            follower.position = seq;
            follower.replay_to = Some(latest);
        }
    }
    Ok(into_stream(follower))
}

async fn last_change_of(follower: &Follower, id: Uuid) -> Result<i64, LiveError> {
    follower
        .hub
        .store
        .last_change_of(id)
        .await?
        .ok_or(LiveError::UnknownRelease)
}

#[derive(Debug)]
struct Follower {
    hub: Arc<Hub>,
    membership: Membership,
    closed: watch::Receiver<bool>,
    /// Every change up to here has been handled.
    position: i64,
    /// Read the log up to here before anything else.
    replay_to: Option<i64>,
    /// A delivery waiting for the gap before it to be read.
    held: Option<Arc<Delivery>>,
    /// Events to send, in order.
    pending: VecDeque<Arc<LiveEvent>>,
    finished: bool,
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.hub.leave(&self.membership.key, self.membership.id);
    }
}

impl Follower {
    /// The next event, `None` at the end (the server stops, or an error was the last item).
    async fn next(&mut self) -> Option<Result<Arc<LiveEvent>, LiveError>> {
        if self.finished {
            return None;
        }
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(Ok(event));
            }
            if let Some(target) = self.replay_to {
                if self.position < target {
                    if let Err(error) = self.read_log(target).await {
                        self.finished = true;
                        return Some(Err(error));
                    }
                    continue;
                }
                self.replay_to = None;
            }
            if let Some(delivery) = self.held.take() {
                self.apply(delivery);
                continue;
            }
            let delivery = tokio::select! {
                delivery = self.membership.deliveries.recv() => delivery,
                _ = self.closed.wait_for(|closed| *closed) => None,
            };
            match delivery {
                Some(delivery) => {
                    self.membership
                        .queued
                        .fetch_sub(delivery.len(), Ordering::AcqRel);
                    self.apply(delivery);
                }
                None => {
                    self.finished = true;
                    return self
                        .membership
                        .overflowed
                        .load(Ordering::Acquire)
                        .then_some(Err(LiveError::SlowConsumer {
                            limit: self.hub.settings().max_queued_events,
                        }));
                }
            }
        }
    }

    /// Takes a delivery in: skipped if already handled, held back behind a gap, read from the
    /// log if the hub could not match it, else its new events queued.
    fn apply(&mut self, delivery: Arc<Delivery>) {
        if delivery.upto <= self.position {
            return;
        }
        if delivery.after > self.position {
            self.replay_to = Some(delivery.after);
            self.held = Some(delivery);
            return;
        }
        match &delivery.events {
            None => self.replay_to = Some(delivery.upto),
            Some(events) => {
                let position = self.position;
                self.pending
                    .extend(events.iter().filter(|event| event.seq > position).cloned());
                self.position = delivery.upto;
            }
        }
    }

    /// One page of the matching changes after the position, up to `target`.
    async fn read_log(&mut self, target: i64) -> Result<(), LiveError> {
        let filter: &LiveFilter = &self.membership.filter;
        let store = &self.hub.store;
        let kinds: &[ChangeKind] = &filter.kinds;
        let changes = store
            .matching_changes((self.position, target), &filter.criteria, kinds, PAGE)
            .await?;
        let events = read_events(store, &changes).await?;
        self.pending.extend(events);
        self.position = match changes.last() {
            Some(last) if changes.len() as u64 == PAGE => last.seq,
            _ => target,
        };
        Ok(())
    }
}

/// The events of one subscription, in order, each once; ends when the server stops, or after
/// an error.
pub type EventStream = BoxStream<'static, Result<Arc<LiveEvent>, LiveError>>;

fn into_stream(follower: Follower) -> EventStream {
    futures::stream::unfold(follower, |mut follower| async move {
        let item = follower.next().await?;
        Some((item, follower))
    })
    .boxed()
}
