//! The change log: one row per release an ingest run published, visibly changed or removed,
//! numbered in commit order by `seq` (see `ChangeKind`). Removed releases keep their rows.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "release_change")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub release_id: Uuid,
    /// A `ChangeKind` code.
    pub kind: i16,
}

impl ActiveModelBehavior for ActiveModel {}

/// What a change did to its release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// The release entered the archive.
    Published,
    /// Something a reader sees of it changed: its title's spelling, summary, image credit,
    /// programmes or offices.
    Updated,
    /// A pruning run deleted it.
    Removed,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 3] = [
        ChangeKind::Published,
        ChangeKind::Updated,
        ChangeKind::Removed,
    ];

    /// The kind's code in `release_change.kind`.
    pub const fn code(self) -> i16 {
        match self {
            ChangeKind::Published => 1,
            ChangeKind::Updated => 2,
            ChangeKind::Removed => 3,
        }
    }

    /// The kind a `release_change.kind` code stands for.
    pub const fn from_code(code: i16) -> Option<ChangeKind> {
        match code {
            1 => Some(ChangeKind::Published),
            2 => Some(ChangeKind::Updated),
            3 => Some(ChangeKind::Removed),
            _ => None,
        }
    }
}
