//! Where each kind of tag is stored: `release_programme` for programmes, `release_office` for
//! offices, each with the release's id, the tag's id, a copy of the release's date (so that one
//! tag's releases are a range of its `(tag, published_on, release_id)` index) and the alias that
//! matched. The catalogue tables they point to are `programme` and `office`.

use sea_orm::sea_query::{DynIden, Expr, IntoIden};

use model::TagKind;
use model::entity::{office, programme, release_office, release_programme};

/// The columns of one kind's tag table, and its catalogue table.
#[derive(Debug, Clone)]
pub struct TagTable {
    pub table: DynIden,
    pub release_id: DynIden,
    pub tag_id: DynIden,
    pub published_on: DynIden,
    pub matched_alias: DynIden,
    /// `programme` or `office`.
    pub catalogue: DynIden,
}

impl TagTable {
    pub fn of(kind: TagKind) -> TagTable {
        match kind {
            TagKind::Programme => TagTable {
                table: release_programme::Entity.into_iden(),
                release_id: release_programme::Column::ReleaseId.into_iden(),
                tag_id: release_programme::Column::ProgrammeId.into_iden(),
                published_on: release_programme::Column::PublishedOn.into_iden(),
                matched_alias: release_programme::Column::MatchedAlias.into_iden(),
                catalogue: programme::Entity.into_iden(),
            },
            TagKind::Office => TagTable {
                table: release_office::Entity.into_iden(),
                release_id: release_office::Column::ReleaseId.into_iden(),
                tag_id: release_office::Column::OfficeId.into_iden(),
                published_on: release_office::Column::PublishedOn.into_iden(),
                matched_alias: release_office::Column::MatchedAlias.into_iden(),
                catalogue: office::Entity.into_iden(),
            },
        }
    }

    /// `"<table>"."<column>"`.
    pub fn col(&self, column: &DynIden) -> Expr {
        Expr::col((self.table.clone(), column.clone()))
    }

    pub fn release_col(&self) -> Expr {
        self.col(&self.release_id)
    }

    pub fn tag_col(&self) -> Expr {
        self.col(&self.tag_id)
    }

    pub fn date_col(&self) -> Expr {
        self.col(&self.published_on)
    }
}
