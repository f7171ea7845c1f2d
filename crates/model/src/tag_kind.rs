//! The two kinds of tag a release carries: the programmes it is about and the offices it
//! concerns. One vocabulary for ingest, the count tables and the API.

use std::fmt;

/// A programme or an office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TagKind {
    Programme,
    Office,
}

impl TagKind {
    /// Both kinds, programmes first.
    pub const ALL: [TagKind; 2] = [TagKind::Programme, TagKind::Office];

    /// The kind's code in `release_tag_day_count.kind`.
    pub const fn code(self) -> i16 {
        match self {
            TagKind::Programme => 1,
            TagKind::Office => 2,
        }
    }

    /// The kind a `release_tag_day_count.kind` code stands for.
    pub const fn from_code(code: i16) -> Option<TagKind> {
        match code {
            1 => Some(TagKind::Programme),
            2 => Some(TagKind::Office),
            _ => None,
        }
    }

    /// "programme" or "office", as the catalogue and messages name it.
    pub const fn as_str(self) -> &'static str {
        match self {
            TagKind::Programme => "programme",
            TagKind::Office => "office",
        }
    }

    /// "programmes" or "offices": the filter argument and root field of the kind.
    pub const fn plural(self) -> &'static str {
        match self {
            TagKind::Programme => "programmes",
            TagKind::Office => "offices",
        }
    }
}

impl fmt::Display for TagKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_stay_what_the_count_tables_hold() {
        // Stored in release_tag_day_count by every ingest run: changing them needs a migration.
        assert_eq!(TagKind::Programme.code(), 1);
        assert_eq!(TagKind::Office.code(), 2);
        for kind in TagKind::ALL {
            assert_eq!(TagKind::from_code(kind.code()), Some(kind));
        }
        assert_eq!(TagKind::from_code(0), None);
    }
}
