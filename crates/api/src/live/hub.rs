//! The hub: the subscribers of a process, grouped by filter, and the one task that reads each
//! commit's changes for all of them. A round reads a page of the change log after the last
//! position handed out, the releases it concerns with their tags (two statements whatever the
//! number of subscribers), and one search per distinct search text; then every group's
//! filter is matched in memory and each member is handed the group's share, one shared
//! allocation per group. A member with more than the limit still waiting is cut off instead.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use chrono::NaiveDate;
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use model::entity::release;
use model::entity::release_change::ChangeKind;

use crate::live::{Cutoff, LiveError, LiveEvent, LiveFilter, LiveSettings, PAGE};
use crate::ops::archive_changes::{ArchiveChanges, ChangeNews};
use crate::store::changes::Change;
use crate::store::search::SearchQuery;
use crate::store::tags::EmbeddedTags;
use crate::store::{Store, StoreError};

/// Longest wait before reading the log again after a failed read.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(5);

/// What one round hands to the members of one group: the changes in `(after, upto]` that the
/// group's filter matches, or `None` when the hub could not match them (a search that joined
/// during the round): then each member reads that range itself.
#[derive(Debug)]
pub(crate) struct Delivery {
    pub after: i64,
    pub upto: i64,
    pub events: Option<Vec<Arc<LiveEvent>>>,
}

impl Delivery {
    pub fn len(&self) -> usize {
        self.events.as_ref().map_or(0, Vec::len)
    }
}

/// Subscribers with equal filters share a group: one match per round for all of them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct GroupKey {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    programme_ids: Option<Vec<i32>>,
    office_ids: Option<Vec<i32>>,
    search: Option<String>,
    kinds: Vec<ChangeKind>,
}

impl GroupKey {
    fn of(filter: &LiveFilter) -> GroupKey {
        GroupKey {
            from: filter.criteria.from,
            to: filter.criteria.to,
            programme_ids: filter.criteria.programme_ids.clone(),
            office_ids: filter.criteria.office_ids.clone(),
            search: filter.search_text.clone(),
            kinds: filter.kinds.clone(),
        }
    }
}

#[derive(Debug)]
struct Member {
    deliveries: mpsc::UnboundedSender<Arc<Delivery>>,
    /// Events handed to the member and not yet taken by its stream.
    queued: Arc<AtomicUsize>,
    overflowed: Arc<AtomicBool>,
    cutoff: Option<Cutoff>,
}

#[derive(Debug)]
struct Group {
    filter: Arc<LiveFilter>,
    members: HashMap<u64, Member>,
}

#[derive(Debug, Default)]
struct Registry {
    next_id: u64,
    groups: HashMap<GroupKey, Group>,
    members: usize,
    /// The position up to which changes have been handed out, once known.
    handed_out: Option<i64>,
}

/// A member's end of the hub.
#[derive(Debug)]
pub(crate) struct Membership {
    pub key: GroupKey,
    pub id: u64,
    /// Where the hub's deliveries to this member will start, if the hub knew when it joined.
    pub handed_out: Option<i64>,
    pub filter: Arc<LiveFilter>,
    pub deliveries: mpsc::UnboundedReceiver<Arc<Delivery>>,
    pub queued: Arc<AtomicUsize>,
    pub overflowed: Arc<AtomicBool>,
}

#[derive(Debug)]
pub(crate) struct Hub {
    pub store: Store,
    /// Kept so that the listener lives as long as the hub.
    _changes: ArchiveChanges,
    settings: LiveSettings,
    registry: Mutex<Registry>,
    closed: watch::Sender<bool>,
}

impl Hub {
    /// The hub over `store`, its reading task started.
    pub fn start(store: Store, changes: &ArchiveChanges, settings: LiveSettings) -> Arc<Hub> {
        let hub = Arc::new(Hub {
            store,
            _changes: changes.clone(),
            settings,
            registry: Mutex::default(),
            closed: watch::channel(false).0,
        });
        tokio::spawn(follow_changes(
            Arc::downgrade(&hub),
            changes.watch(),
            hub.closed.subscribe(),
        ));
        hub
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        // The registry holds no invariant a panic could break halfway.
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a member with `filter`; from now on it is handed every round.
    pub fn join(&self, filter: LiveFilter, cutoff: Option<Cutoff>) -> Membership {
        let key = GroupKey::of(&filter);
        let (sender, deliveries) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let overflowed = Arc::new(AtomicBool::new(false));
        let mut registry = self.registry();
        registry.next_id += 1;
        registry.members += 1;
        let id = registry.next_id;
        let handed_out = registry.handed_out;
        let group = registry.groups.entry(key.clone()).or_insert_with(|| Group {
            filter: Arc::new(filter),
            members: HashMap::new(),
        });
        group.members.insert(
            id,
            Member {
                deliveries: sender,
                queued: Arc::clone(&queued),
                overflowed: Arc::clone(&overflowed),
                cutoff,
            },
        );
        Membership {
            key,
            id,
            handed_out,
            filter: Arc::clone(&group.filter),
            deliveries,
            queued,
            overflowed,
        }
    }

    /// Removes a member (its stream was dropped).
    pub fn leave(&self, key: &GroupKey, id: u64) {
        let mut registry = self.registry();
        let Some(group) = registry.groups.get_mut(key) else {
            return;
        };
        if group.members.remove(&id).is_some() {
            if group.members.is_empty() {
                registry.groups.remove(key);
            }
            registry.members -= 1;
        }
    }

    pub fn settings(&self) -> LiveSettings {
        self.settings
    }

    pub fn subscriptions(&self) -> usize {
        self.registry().members
    }

    pub fn shut_down(&self) {
        self.closed.send_replace(true);
    }

    /// Completes once the server is stopping.
    pub fn closed(&self) -> watch::Receiver<bool> {
        self.closed.subscribe()
    }

    /// Reads what was logged after `last` and hands it out, page by page, until the log is
    /// read to its end; `last` follows what was handed out.
    async fn catch_up(&self, last: &mut i64) -> Result<(), StoreError> {
        loop {
            let changes = self.store.changes_after(*last, PAGE).await?;
            let Some(upto) = changes.last().map(|change| change.seq) else {
                return Ok(());
            };
            let events = read_events(&self.store, &changes).await?;
            let searches = self.searches();
            let present: Vec<Uuid> = events
                .iter()
                .filter(|event| event.release.is_some())
                .map(|event| event.release_id)
                .collect();
            let mut found = HashMap::with_capacity(searches.len());
            for (text, search) in searches {
                let ids = self.store.search_among(&present, &search).await?;
                found.insert(text, ids);
            }
            self.hand_out(*last, upto, &events, &found);
            *last = upto;
            if (changes.len() as u64) < PAGE {
                return Ok(());
            }
        }
    }

    /// The distinct search texts of the current groups, parsed.
    fn searches(&self) -> Vec<(String, Arc<SearchQuery>)> {
        let registry = self.registry();
        let mut seen = HashSet::new();
        registry
            .groups
            .values()
            .filter_map(|group| {
                let text = group.filter.search_text.as_ref()?;
                let search = group.filter.criteria.search.as_ref()?;
                seen.insert(text.clone())
                    .then(|| (text.clone(), Arc::clone(search)))
            })
            .collect()
    }

    /// Matches `events` against every group and hands each member its group's share; a member
    /// with more than the limit still waiting is cut off instead.
    fn hand_out(
        &self,
        after: i64,
        upto: i64,
        events: &[Arc<LiveEvent>],
        found: &HashMap<String, HashSet<Uuid>>,
    ) {
        let limit = self.settings.max_queued_events;
        let mut registry = self.registry();
        let mut removed = 0;
        for group in registry.groups.values_mut() {
            let matched = match &group.filter.search_text {
                Some(text) => found
                    .get(text)
                    .map(|found| select(events, &group.filter, |id| found.contains(&id))),
                None => Some(select(events, &group.filter, |_| true)),
            };
            let delivery = Arc::new(Delivery {
                after,
                upto,
                events: matched,
            });
            let size = delivery.len();
            group.members.retain(|_, member| {
                if member.queued.load(Ordering::Acquire) > limit {
                    member.overflowed.store(true, Ordering::Release);
                    if let Some(cutoff) = &member.cutoff {
                        cutoff.trigger(LiveError::SlowConsumer { limit });
                    }
                    removed += 1;
                    return false;
                }
                member.queued.fetch_add(size, Ordering::AcqRel);
                let kept = member.deliveries.send(Arc::clone(&delivery)).is_ok();
                if !kept {
                    removed += 1;
                }
                kept
            });
        }
        registry.groups.retain(|_, group| !group.members.is_empty());
        registry.members -= removed;
        registry.handed_out = Some(upto);
    }
}

/// `changes` as events, with their releases read in one statement. A publication or update
/// of a release that a later change removed is left out: that removal follows it.
pub(crate) async fn read_events(
    store: &Store,
    changes: &[Change],
) -> Result<Vec<Arc<LiveEvent>>, StoreError> {
    let ids: Vec<Uuid> = changes
        .iter()
        .filter(|change| change.kind != ChangeKind::Removed)
        .map(|change| change.release_id)
        .collect();
    let releases: HashMap<Uuid, (release::Model, Arc<EmbeddedTags>)> = store
        .releases_with_tags(&ids)
        .await?
        .into_iter()
        .map(|(id, (model, tags))| (id, (model, Arc::new(tags))))
        .collect();
    let mut events = Vec::with_capacity(changes.len());
    for change in changes {
        let release = match change.kind {
            ChangeKind::Removed => None,
            // A release may have several changes in one page: each gets the row as read.
            ChangeKind::Published | ChangeKind::Updated => match releases.get(&change.release_id) {
                Some(release) => Some(release.clone()),
                None => continue,
            },
        };
        events.push(Arc::new(LiveEvent {
            seq: change.seq,
            kind: change.kind,
            release_id: change.release_id,
            release,
        }));
    }
    Ok(events)
}

/// The events `filter` matches, the search decided by `searched`. Dates, programmes and
/// offices are compared in memory exactly as `store::criteria` states them in SQL (inclusive
/// dates, any of the ids); a removal matches every filter that asks for removals.
fn select(
    events: &[Arc<LiveEvent>],
    filter: &LiveFilter,
    searched: impl Fn(Uuid) -> bool,
) -> Vec<Arc<LiveEvent>> {
    events
        .iter()
        .filter(|event| filter.kinds.contains(&event.kind))
        .filter(|event| match &event.release {
            None => event.kind == ChangeKind::Removed,
            Some((release, tags)) => {
                let criteria = &filter.criteria;
                let any_of = |wanted: Option<&Vec<i32>>, have: Option<Vec<i32>>| match wanted {
                    None => true,
                    Some(wanted) => {
                        have.is_some_and(|have| have.iter().any(|id| wanted.contains(id)))
                    }
                };
                criteria
                    .from
                    .is_none_or(|from| release.published_on >= from)
                    && criteria.to.is_none_or(|to| release.published_on <= to)
                    && any_of(
                        criteria.programme_ids.as_ref(),
                        tags.programmes
                            .as_ref()
                            .map(|list| list.iter().map(|p| p.id).collect()),
                    )
                    && any_of(
                        criteria.office_ids.as_ref(),
                        tags.offices
                            .as_ref()
                            .map(|list| list.iter().map(|o| o.id).collect()),
                    )
                    && searched(release.id)
            }
        })
        .cloned()
        .collect()
}

/// Follows the archive's changes until the hub is dropped or shut down: a round on start (to
/// learn where the log ends) and after every commit that logged changes or may have gone
/// unheard; a failed read is retried, from the same position, with a growing delay.
async fn follow_changes(
    hub: Weak<Hub>,
    mut news: watch::Receiver<ChangeNews>,
    mut closed: watch::Receiver<bool>,
) {
    let mut last: Option<i64> = None;
    let mut heard = news.borrow_and_update().release_changes;
    let mut delay = Duration::from_millis(100);
    loop {
        let Some(current) = hub.upgrade() else {
            return;
        };
        let read = match last.as_mut() {
            None => current.store.latest_change().await.map(|latest| {
                last = Some(latest);
                current.registry().handed_out = Some(latest);
            }),
            Some(last) => current.catch_up(last).await,
        };
        drop(current);
        if let Err(error) = read {
            tracing::warn!(%error, retry_in = ?delay, "live updates: cannot read the change log");
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                _ = closed.wait_for(|closed| *closed) => return,
            }
            delay = (delay * 2).min(MAX_RETRY_DELAY);
            continue;
        }
        delay = Duration::from_millis(100);
        loop {
            tokio::select! {
                changed = news.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
                _ = closed.wait_for(|closed| *closed) => return,
            }
            let now = news.borrow_and_update().release_changes;
            if now != heard {
                heard = now;
                break;
            }
        }
    }
}
