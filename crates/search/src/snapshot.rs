//! A consistent view of the index: the searcher of one commit, its segments' tables, and the
//! state that commit brought the index to. Every search reads one snapshot from start to end.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tantivy::Searcher;
use tantivy::index::SegmentId;

use crate::error::IndexError;
use crate::fields::Fields;
use crate::segment_table::SegmentTable;

/// Where the index stands: the archive it was built from (an identity the caller chooses, e.g.
/// the database's system identifier and name) and the position of that archive's change log
/// up to which every change is in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexState {
    pub archive: String,
    pub position: i64,
}

/// A consistent view: the searcher of one commit, its segments' tables, and its state.
pub(crate) struct Snapshot {
    pub searcher: Searcher,
    /// Aligned with `searcher.segment_readers()`.
    pub tables: Vec<Arc<SegmentTable>>,
    pub state: Option<IndexState>,
    pub fields: Fields,
}

impl Snapshot {
    pub(crate) fn load(
        searcher: Searcher,
        known: &HashMap<SegmentId, Arc<SegmentTable>>,
        state: Option<IndexState>,
        fields: Fields,
    ) -> Result<Snapshot, IndexError> {
        let tables = searcher
            .segment_readers()
            .iter()
            .map(|reader| match known.get(&reader.segment_id()) {
                Some(table) => Ok(table.clone()),
                None => SegmentTable::load(reader).map(Arc::new),
            })
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok(Snapshot {
            searcher,
            tables,
            state,
            fields,
        })
    }
}
