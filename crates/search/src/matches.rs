//! Every release a search matches, gathered once, and the answers read from them: a page in
//! any order, the exact count, and the facets.
//!
//! A search page asks for a page, the count and four facets, each under slightly different
//! criteria (a facet leaves out its own dimension). The matches of the search text within the
//! widest date range are gathered once with their scores; each answer then filters them by
//! day and tags from the segment tables, which costs a few nanoseconds per match.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{Datelike, NaiveDate};
use model::TagKind;
use tantivy::DocId;
use tantivy::query::EnableScoring;
use uuid::Uuid;

use crate::SearchQuery;
use crate::error::IndexError;
use crate::resolve::{Correction, Resolved};
use crate::segment_table::{Row, SegmentTable};
use crate::snapshot::Snapshot;

/// Which releases of the matches an answer counts: a date range and required tags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Inclusive.
    pub from: Option<NaiveDate>,
    /// Inclusive.
    pub to: Option<NaiveDate>,
    /// Releases carrying any of these programmes; `None`: any.
    pub programmes: Option<Vec<i32>>,
    /// Releases carrying any of these offices; `None`: any.
    pub offices: Option<Vec<i32>>,
    /// A tag every release must carry (a programme's or an office's own list).
    pub scope: Option<(TagKind, i32)>,
}

/// The order of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    NewestFirst,
    OldestFirst,
    /// Highest score first, then newest, then highest id.
    Relevance,
}

/// A release's place in an order: its score (relevance only), day and id.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Key {
    pub score: f32,
    pub published_on: NaiveDate,
    pub id: Uuid,
}

/// Which page: the first `size` (plus one, to tell whether more follow) after `after` and
/// before `before`, or, `backward`, the last ones before `before`, read from the far end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageSpec {
    pub order: Order,
    pub size: usize,
    pub after: Option<Key>,
    pub before: Option<Key>,
    pub backward: bool,
}

/// A release of a page, with its programme and office ids as the index holds them.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: Uuid,
    pub score: f32,
    pub published_on: NaiveDate,
    pub programmes: Vec<i32>,
    pub offices: Vec<i32>,
}

/// Releases counted per day, programme and office.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facets {
    pub days: BTreeMap<NaiveDate, i64>,
    /// Programme id and count, unordered.
    pub programmes: Vec<(i32, i64)>,
    /// Office id and count, unordered.
    pub offices: Vec<(i32, i64)>,
}

/// Every release a search matches within a date range, with its score.
pub struct Matches {
    snapshot: Arc<Snapshot>,
    segments: Vec<SegmentMatches>,
    resolved: Resolved,
    /// Where the columns go back when these matches are dropped.
    pool: Arc<BufferPool>,
}

/// Match columns kept for the next search: a large search fills millions of entries, and
/// fresh memory for each would cost page faults and copies as the columns grow.
#[derive(Debug, Default)]
pub(crate) struct BufferPool {
    spare: Mutex<Vec<SegmentColumns>>,
}

/// The most memory the pool keeps: a few large searches' worth (a match costs 8 bytes, and
/// the most frequent words match about half a million releases at 1,000,000).
const POOL_BYTES: usize = 32 << 20;

#[derive(Debug, Default)]
struct SegmentColumns {
    docs: Vec<DocId>,
    scores: Vec<f32>,
}

impl SegmentColumns {
    fn bytes(&self) -> usize {
        4 * (self.docs.capacity() + self.scores.capacity())
    }
}

impl BufferPool {
    fn take(&self) -> SegmentColumns {
        let spare = match self.spare.lock() {
            Ok(mut spare) => spare.pop(),
            Err(_) => None,
        };
        let mut columns = spare.unwrap_or_default();
        columns.docs.clear();
        columns.scores.clear();
        columns
    }

    fn give_back(&self, columns: SegmentColumns) {
        if let Ok(mut spare) = self.spare.lock()
            && spare.iter().map(SegmentColumns::bytes).sum::<usize>() + columns.bytes()
                <= POOL_BYTES
        {
            spare.push(columns);
        }
    }
}

impl Drop for Matches {
    fn drop(&mut self) {
        for segment in self.segments.drain(..) {
            self.pool.give_back(SegmentColumns {
                docs: segment.docs,
                scores: segment.scores,
            });
        }
    }
}

/// One segment's matches, column by column, in document order: the document and its score.
/// Their days and tags are read from the segment table's rows, in the same ascending order.
struct SegmentMatches {
    table: Arc<SegmentTable>,
    docs: Vec<DocId>,
    scores: Vec<f32>,
}

impl SegmentMatches {
    /// Each match's position in the columns and its row.
    fn rows(&self) -> impl Iterator<Item = (usize, Row)> + '_ {
        self.docs
            .iter()
            .enumerate()
            .map(|(at, doc)| (at, self.table.rows[*doc as usize]))
    }
}

impl std::fmt::Debug for Matches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matches")
            .field("matches", &self.len())
            .field("resolved", &self.resolved)
            .finish()
    }
}

/// The releases `query` matches in `snapshot` published within `from..=to`, with their scores,
/// in columns taken from `pool`.
pub(crate) fn gather(
    snapshot: Arc<Snapshot>,
    pool: Arc<BufferPool>,
    query: &SearchQuery,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Matches, IndexError> {
    {
        let resolved = Resolved::resolve(query, snapshot.as_ref());
        let tantivy_query = resolved.to_query(&snapshot.fields);
        let searcher = &snapshot.searcher;
        let weight = tantivy_query.weight(EnableScoring::enabled_from_searcher(searcher))?;
        let (low, high) = (day_number(from, 0), day_number(to, u32::MAX));
        let mut segments = Vec::with_capacity(searcher.segment_readers().len());
        for (reader, table) in searcher.segment_readers().iter().zip(&snapshot.tables) {
            let alive = reader.alive_bitset();
            let columns = pool.take();
            let mut matches = SegmentMatches {
                table: table.clone(),
                docs: columns.docs,
                scores: columns.scores,
            };
            weight.for_each(reader, &mut |doc, score| {
                let day = table.rows[doc as usize].day;
                if day >= low && day <= high && alive.is_none_or(|alive| alive.is_alive(doc)) {
                    matches.docs.push(doc);
                    matches.scores.push(score);
                }
            })?;
            segments.push(matches);
        }
        Ok(Matches {
            segments,
            resolved,
            snapshot,
            pool,
        })
    }
}

fn day_number(date: Option<NaiveDate>, default: u32) -> u32 {
    date.and_then(|date| u32::try_from(date.num_days_from_ce()).ok())
        .unwrap_or(default)
}

fn date_of(day: u32) -> NaiveDate {
    i32::try_from(day)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .unwrap_or_default()
}

/// A filter checked against a segment's rows: the date range, and for each tag combination of
/// the segment whether it passes the tag criteria (decided once per combination).
pub(crate) struct Check<'a> {
    low: u32,
    high: u32,
    passes: Vec<bool>,
    table: &'a SegmentTable,
}

impl<'a> Check<'a> {
    pub(crate) fn new(filter: &Filter, table: &'a SegmentTable) -> Check<'a> {
        let wanted = |ids: &Option<Vec<i32>>| {
            ids.as_ref().map(|ids| {
                ids.iter()
                    .filter_map(|id| u32::try_from(*id).ok())
                    .collect::<Vec<u32>>()
            })
        };
        let (programmes, offices) = (wanted(&filter.programmes), wanted(&filter.offices));
        let any = |wanted: &Option<Vec<u32>>, have: &[u32]| {
            wanted
                .as_ref()
                .is_none_or(|wanted| wanted.iter().any(|id| have.contains(id)))
        };
        let scope = filter
            .scope
            .and_then(|(kind, id)| u32::try_from(id).ok().map(|id| (kind, id)));
        let passes = table
            .combinations
            .iter()
            .map(|combination| {
                any(&programmes, &combination.programmes)
                    && any(&offices, &combination.offices)
                    && match scope {
                        None => true,
                        Some((TagKind::Programme, id)) => combination.programmes.contains(&id),
                        Some((TagKind::Office, id)) => combination.offices.contains(&id),
                    }
            })
            .collect();
        Check {
            low: day_number(filter.from, 0),
            high: day_number(filter.to, u32::MAX),
            passes,
            table,
        }
    }

    /// Whether document `doc` (of this check's segment) passes. Doc ids come from the
    /// segment's own postings, so they index its table.
    #[inline]
    pub(crate) fn all(&self, doc: DocId) -> bool {
        self.passes(self.table.rows[doc as usize])
    }

    /// Whether a document of this row passes.
    #[inline]
    fn passes(&self, row: Row) -> bool {
        row.day >= self.low && row.day <= self.high && self.passes[row.combination as usize]
    }
}

impl Matches {
    /// The corrections the search was resolved with.
    pub fn corrections(&self) -> &[Correction] {
        &self.resolved.corrections
    }

    /// The resolved search, e.g. for highlights.
    pub fn resolved(&self) -> &Resolved {
        &self.resolved
    }

    /// Matches within the search's date range, before any filter.
    pub fn len(&self) -> usize {
        self.segments.iter().map(|segment| segment.docs.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many matches `filter` keeps.
    pub fn count(&self, filter: &Filter) -> u64 {
        let mut count = 0;
        for segment in &self.segments {
            let check = Check::new(filter, &segment.table);
            count += segment.rows().filter(|(_, row)| check.passes(*row)).count() as u64;
        }
        count
    }

    /// The page `spec` asks for among the matches `filter` keeps, in scan order (the page's
    /// order, or its reverse when `backward`), with one release more than `size` when more
    /// follow; and, when `count` is set, how many matches `filter` keeps, in the same pass.
    pub fn page(&self, filter: &Filter, spec: &PageSpec, count: bool) -> (Vec<Hit>, Option<u64>) {
        let wanted = spec.size.saturating_add(1);
        let keep = wanted.saturating_mul(2).max(64);
        // Scan order: the list's own, reversed for a backward page.
        let scan = |a: &Candidate, b: &Candidate| {
            let ordering = compare(spec.order, a, b);
            if spec.backward {
                ordering.reverse()
            } else {
                ordering
            }
        };
        let after = spec.after.map(Candidate::of_key);
        let before = spec.before.map(Candidate::of_key);
        let mut best: Vec<Candidate> = Vec::with_capacity(keep);
        // The worst of the best `wanted` so far, once known: anything not ahead of it is out.
        let mut threshold: Option<Candidate> = None;
        let mut total = 0u64;
        for (number, segment) in self.segments.iter().enumerate() {
            let check = Check::new(filter, &segment.table);
            let table = &segment.table;
            for (at, row) in segment.rows() {
                if !check.passes(row) {
                    continue;
                }
                let Row { day, combination } = row;
                total += 1;
                let mut candidate = Candidate {
                    score: if spec.order == Order::Relevance {
                        segment.scores[at]
                    } else {
                        0.0
                    },
                    day,
                    id: 0,
                    segment: number as u32,
                    combination,
                };
                // Most matches of a large search are behind the page on score or day alone:
                // their id is never read.
                if let Some(threshold) = &threshold {
                    let ahead = compare_without_id(spec.order, &candidate, threshold);
                    let ahead = if spec.backward {
                        ahead.reverse()
                    } else {
                        ahead
                    };
                    if ahead.is_gt() {
                        continue;
                    }
                }
                candidate.id = table.id[segment.docs[at] as usize];
                if threshold
                    .as_ref()
                    .is_some_and(|threshold| scan(&candidate, threshold).is_ge())
                {
                    continue;
                }
                let past_after = after
                    .as_ref()
                    .is_none_or(|after| compare(spec.order, &candidate, after).is_gt());
                let before_before = before
                    .as_ref()
                    .is_none_or(|before| compare(spec.order, &candidate, before).is_lt());
                if !(past_after && before_before) {
                    continue;
                }
                best.push(candidate);
                if best.len() >= keep {
                    best.select_nth_unstable_by(wanted - 1, scan);
                    best.truncate(wanted);
                    threshold = best.get(wanted - 1).copied();
                }
            }
        }
        best.sort_unstable_by(scan);
        best.truncate(wanted);
        let ids = |ids: &[u32]| {
            ids.iter()
                .filter_map(|id| i32::try_from(*id).ok())
                .collect()
        };
        let hits = best
            .into_iter()
            .map(|candidate| {
                let tags = self
                    .segments
                    .get(candidate.segment as usize)
                    .and_then(|segment| {
                        segment
                            .table
                            .combinations
                            .get(candidate.combination as usize)
                    });
                Hit {
                    id: Uuid::from_u128(candidate.id),
                    score: candidate.score,
                    published_on: date_of(candidate.day),
                    programmes: tags.map(|tags| ids(&tags.programmes)).unwrap_or_default(),
                    offices: tags.map(|tags| ids(&tags.offices)).unwrap_or_default(),
                }
            })
            .collect();
        // The total counts the filter's matches whatever the cursors.
        (hits, count.then_some(total))
    }

    /// Releases per day (with `days`), per programme (with `programmes`) and per office (with
    /// `offices`), in one pass over the matches: each match adds to its day and to its tag
    /// combination's counts, which are expanded into programmes and offices at the end.
    ///
    /// The pass does the same work for every match, without branches: which of the three
    /// filters a tag combination passes is decided once per combination (a bit each), and a
    /// match adds that bit, masked by its day's place in each date range, to each count.
    pub fn facets(&self, days: &Filter, programmes: &Filter, offices: &Filter) -> Facets {
        let spans = self
            .segments
            .iter()
            .filter(|segment| !segment.docs.is_empty())
            .map(|segment| segment.table.days);
        let first_day = spans.clone().map(|(first, _)| first).min().unwrap_or(0);
        let last_day = spans.map(|(_, last)| last).max().unwrap_or(0);
        let mut per_day = vec![0u32; (last_day - first_day) as usize + 1];
        let mut programme_counts: BTreeMap<u32, i64> = BTreeMap::new();
        let mut office_counts: BTreeMap<u32, i64> = BTreeMap::new();
        let range = |filter: &Filter| {
            let (low, high) = (day_number(filter.from, 0), day_number(filter.to, u32::MAX));
            (low, high.saturating_sub(low))
        };
        // `day - low <= span` (wrapping) is `low <= day <= high`.
        let (by_day, by_programme, by_office) = (range(days), range(programmes), range(offices));
        let within = |day: u32, (low, span): (u32, u32)| u32::from(day.wrapping_sub(low) <= span);
        for segment in &self.segments {
            let table = &segment.table;
            let masks: Vec<u32> = {
                let (days, programmes, offices) = (
                    Check::new(days, table),
                    Check::new(programmes, table),
                    Check::new(offices, table),
                );
                (0..table.combinations.len())
                    .map(|number| {
                        u32::from(days.passes[number])
                            | u32::from(programmes.passes[number]) << 1
                            | u32::from(offices.passes[number]) << 2
                    })
                    .collect()
            };
            let mut per_programme = vec![0u32; table.combinations.len()];
            let mut per_office = vec![0u32; table.combinations.len()];
            for (_, Row { day, combination }) in segment.rows() {
                let combination = combination as usize;
                let mask = masks[combination];
                per_day[(day - first_day) as usize] += mask & within(day, by_day);
                per_programme[combination] += (mask >> 1) & within(day, by_programme);
                per_office[combination] += (mask >> 2) & within(day, by_office);
            }
            for (combination, (in_programmes, in_offices)) in table
                .combinations
                .iter()
                .zip(per_programme.into_iter().zip(per_office))
            {
                if in_programmes > 0 {
                    for id in &combination.programmes {
                        *programme_counts.entry(*id).or_default() += i64::from(in_programmes);
                    }
                }
                if in_offices > 0 {
                    for id in &combination.offices {
                        *office_counts.entry(*id).or_default() += i64::from(in_offices);
                    }
                }
            }
        }
        let ids = |counts: BTreeMap<u32, i64>| {
            counts
                .into_iter()
                .filter_map(|(id, count)| i32::try_from(id).ok().map(|id| (id, count)))
                .collect()
        };
        Facets {
            days: per_day
                .into_iter()
                .enumerate()
                .filter(|(_, count)| *count > 0)
                .map(|(offset, count)| (date_of(first_day + offset as u32), i64::from(count)))
                .collect(),
            programmes: ids(programme_counts),
            offices: ids(office_counts),
        }
    }

    /// The snapshot these matches were read from (its generation stays alive with them).
    pub fn index_position(&self) -> Option<i64> {
        self.snapshot.state.as_ref().map(|state| state.position)
    }
}

/// A release competing for a page.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    score: f32,
    day: u32,
    id: u128,
    /// Its segment and tag combination (not part of the order).
    segment: u32,
    combination: u32,
}

impl Candidate {
    fn of_key(key: Key) -> Candidate {
        Candidate {
            score: key.score,
            day: day_number(Some(key.published_on), 0),
            id: key.id.as_u128(),
            segment: 0,
            combination: 0,
        }
    }
}

/// [`compare`] on score and day only: `Equal` when the id decides.
fn compare_without_id(order: Order, a: &Candidate, b: &Candidate) -> Ordering {
    match order {
        Order::NewestFirst => b.day.cmp(&a.day),
        Order::OldestFirst => a.day.cmp(&b.day),
        Order::Relevance => b.score.total_cmp(&a.score).then(b.day.cmp(&a.day)),
    }
}

/// List order: `Less` when `a` comes first.
fn compare(order: Order, a: &Candidate, b: &Candidate) -> Ordering {
    let newest = || b.day.cmp(&a.day).then(b.id.cmp(&a.id));
    match order {
        Order::NewestFirst => newest(),
        Order::OldestFirst => a.day.cmp(&b.day).then(a.id.cmp(&b.id)),
        Order::Relevance => b.score.total_cmp(&a.score).then_with(newest),
    }
}
