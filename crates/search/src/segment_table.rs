//! One segment's columns as plain arrays: each document's publication day, release id and tag
//! combination, read once when a segment first appears (segments never change; deletions live
//! in the searcher's alive bitset). Pages, counts and facets read these arrays for every match,
//! which is cheaper than decoding tantivy's columns document by document.
//!
//! Releases carry few distinct combinations of programmes and offices (a few hundred over a
//! million releases), so each document stores the number of its combination: a filter on tags
//! is then decided once per combination, and a facet counts combinations and expands them into
//! programmes and offices at the end.

use std::collections::HashMap;

use tantivy::{DocId, SegmentReader};

use crate::fields::{DAY, ID_HI, ID_LO, OFFICE, PROGRAMME};

#[derive(Debug)]
pub struct SegmentTable {
    /// Each document's day and tag combination, side by side: every pass over matches reads
    /// both, so one read brings both in.
    pub rows: Vec<Row>,
    pub id: Vec<u128>,
    pub combinations: Vec<TagCombination>,
    /// The earliest and latest day of the segment (`(0, 0)` when empty).
    pub days: (u32, u32),
}

/// What passes over matches read of a document.
#[derive(Debug, Clone, Copy, Default)]
pub struct Row {
    /// Days since 0001-01-01 (`NaiveDate::num_days_from_ce`).
    pub day: u32,
    /// The document's index into `combinations`.
    pub combination: u32,
}

/// The programmes and offices of a release, each ascending.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct TagCombination {
    pub programmes: Vec<u32>,
    pub offices: Vec<u32>,
}

impl SegmentTable {
    pub fn load(reader: &SegmentReader) -> tantivy::Result<SegmentTable> {
        let fast = reader.fast_fields();
        let max_doc = reader.max_doc();
        let day = fast.u64(DAY)?;
        let hi = fast.u64(ID_HI)?;
        let lo = fast.u64(ID_LO)?;
        let programmes = fast.u64(PROGRAMME)?;
        let offices = fast.u64(OFFICE)?;
        let capacity = max_doc as usize;
        let mut table = SegmentTable {
            rows: Vec::with_capacity(capacity),
            id: Vec::with_capacity(capacity),
            combinations: Vec::new(),
            days: (0, 0),
        };
        let mut known: HashMap<TagCombination, u32> = HashMap::new();
        let ids_of = |column: &tantivy::columnar::Column<u64>, doc: DocId| {
            let mut ids: Vec<u32> = column
                .values_for_doc(doc)
                .map(|id| u32::try_from(id).unwrap_or(u32::MAX))
                .collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        };
        for doc in 0..max_doc {
            let published = u32::try_from(day.first(doc).unwrap_or(0)).unwrap_or(u32::MAX);
            table.id.push(
                (u128::from(hi.first(doc).unwrap_or(0)) << 64)
                    | u128::from(lo.first(doc).unwrap_or(0)),
            );
            let combination = TagCombination {
                programmes: ids_of(&programmes, doc),
                offices: ids_of(&offices, doc),
            };
            let next = u32::try_from(table.combinations.len()).unwrap_or(u32::MAX);
            let number = *known.entry(combination.clone()).or_insert_with(|| {
                table.combinations.push(combination);
                next
            });
            table.rows.push(Row {
                day: published,
                combination: number,
            });
        }
        table.days = (
            table.rows.iter().map(|row| row.day).min().unwrap_or(0),
            table.rows.iter().map(|row| row.day).max().unwrap_or(0),
        );
        Ok(table)
    }
}
