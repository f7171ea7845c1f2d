//! Which releases a list holds, as SQL: resolved criteria (dates, programme and office ids, a
//! parsed search) within a scope (the archive, or one programme's or office's releases) become
//! conditions on `release`, joined to one tag's rows when every release listed must carry it.

use std::sync::Arc;

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait, JoinType, Query};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, RelationDef,
    RelationTrait, Select,
};

use model::TagKind;
use model::entity::{release, release_office, release_programme};

use crate::store::tag_table::TagTable;
use crate::store::{Dialect, Store, StoreError};
use ::search::SearchQuery;

/// Whose releases a list holds: the whole archive, or one programme's or office's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Archive,
    Tag(TagKind, i32),
}

/// Checked criteria with slugs resolved to ids. Every criterion given must hold.
#[derive(Debug, Clone, Default)]
pub struct Criteria {
    /// Inclusive first day.
    pub from: Option<NaiveDate>,
    /// Inclusive last day.
    pub to: Option<NaiveDate>,
    /// Releases carrying any of these programmes (distinct ids, ascending); `None`: any.
    pub programme_ids: Option<Vec<i32>>,
    /// Releases carrying any of these offices (distinct ids, ascending); `None`: any.
    pub office_ids: Option<Vec<i32>>,
    /// The parsed search, possibly with nothing searchable in it (then nothing matches). Shared
    /// with the page, whose releases highlight it.
    pub search: Option<Arc<SearchQuery>>,
}

impl Criteria {
    /// The ids of `kind` the criteria require, if any.
    pub fn ids(&self, kind: TagKind) -> Option<&Vec<i32>> {
        match kind {
            TagKind::Programme => self.programme_ids.as_ref(),
            TagKind::Office => self.office_ids.as_ref(),
        }
    }

    /// The criteria without the requirement on `kind`.
    pub fn without(&self, kind: TagKind) -> Criteria {
        let mut criteria = self.clone();
        match kind {
            TagKind::Programme => criteria.programme_ids = None,
            TagKind::Office => criteria.office_ids = None,
        }
        criteria
    }

    /// The releases in `scope` that match, anchored on one tag when the list allows it (see
    /// [`TagAnchor`]): a list without a search whose releases must all carry one given
    /// programme or office.
    pub fn selection(&self, dialect: Dialect, scope: Scope) -> Selection {
        self.select(dialect, scope, self.search.is_none())
    }

    /// The condition on `release` alone selecting the releases in `scope` that match.
    pub fn condition(&self, dialect: Dialect, scope: Scope) -> Condition {
        self.select(dialect, scope, false).on_release
    }

    fn select(&self, dialect: Dialect, scope: Scope, anchored: bool) -> Selection {
        let mut required: Vec<(TagKind, Vec<i32>)> = Vec::new();
        if let Scope::Tag(kind, id) = scope {
            required.push((kind, vec![id]));
        }
        for kind in TagKind::ALL {
            if let Some(ids) = self.ids(kind) {
                required.push((kind, ids.clone()));
            }
        }
        let anchor = required
            .iter()
            .find_map(|(kind, ids)| match ids.as_slice() {
                [id] => Some(TagAnchor {
                    kind: *kind,
                    id: *id,
                }),
                _ => None,
            })
            .filter(|_| anchored);
        let dates = (self.from, self.to);
        let mut on_release = Condition::all();
        let on_anchor = match anchor {
            // The anchor's rows carry the dates, so the range bounds its index scan.
            Some(anchor) => anchor.condition(dates),
            None => {
                let dates = dates_of(release::Column::PublishedOn.into_expr(), dates);
                // An empty condition would be written `TRUE AND …`.
                if !dates.is_empty() {
                    on_release = on_release.add(dates);
                }
                Condition::all()
            }
        };
        for (kind, ids) in required {
            let is_anchor = anchor.is_some_and(|anchor| kind == anchor.kind && ids == [anchor.id]);
            if !is_anchor {
                on_release = on_release.add(tagged_with(kind, ids, dates));
            }
        }
        if let Some(search) = &self.search {
            on_release = on_release.add(if search.is_empty() {
                // Nothing searchable: nothing matches (the page does not even query).
                Expr::val(1).eq(0)
            } else {
                dialect.matches(search)
            });
        }
        Selection {
            anchor,
            on_anchor,
            on_release,
        }
    }
}

/// The releases of a list as SQL: conditions on `release`, and, when the list is anchored on a
/// tag, the join to that tag's rows with the conditions on them.
#[derive(Debug, Clone)]
pub struct Selection {
    pub anchor: Option<TagAnchor>,
    /// The anchor's tag and the date range, on the anchor's rows; empty without an anchor.
    pub on_anchor: Condition,
    /// Everything else, on `release`.
    pub on_release: Condition,
}

impl Selection {
    /// `release` rows of the list: joined to the anchor's rows when there is one.
    pub fn select(&self) -> Select<release::Entity> {
        let query = release::Entity::find();
        match self.anchor {
            None => query.filter(self.on_release.clone()),
            Some(anchor) => query
                .join(JoinType::InnerJoin, join(anchor.kind))
                .filter(self.on_anchor.clone())
                .filter(self.on_release.clone()),
        }
    }
}

impl Store {
    /// How many releases `selection` holds. Anchored on a tag with no other condition, that is
    /// the number of the tag's rows in the range: an index-only count that never reads
    /// `release`.
    pub async fn count(&self, selection: &Selection) -> Result<u64, StoreError> {
        let db = self.db();
        Ok(match selection.anchor {
            Some(anchor) if selection.on_release.is_empty() => match anchor.kind {
                TagKind::Programme => {
                    release_programme::Entity::find()
                        .filter(selection.on_anchor.clone())
                        .count(db)
                        .await?
                }
                TagKind::Office => {
                    release_office::Entity::find()
                        .filter(selection.on_anchor.clone())
                        .count(db)
                        .await?
                }
            },
            _ => selection.select().count(db).await?,
        })
    }
}

/// The one programme or office that every release of a list carries, when a list has one.
/// Its rows in `release_programme` or `release_office` copy each release's date, so the list
/// can be read in its order from the tag's `(tag, published_on, release_id)` index, joining
/// `release` only for the rows of the page, and counted from that index alone; filtering
/// `release` by `id IN (the tag's releases)` instead makes PostgreSQL visit every one of them
/// to sort the page and again to count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagAnchor {
    pub kind: TagKind,
    pub id: i32,
}

impl TagAnchor {
    /// Rows of this tag published in `dates`.
    fn condition(self, dates: DateRange) -> Condition {
        let table = TagTable::of(self.kind);
        Condition::all()
            .add(table.tag_col().eq(self.id))
            .add(dates_of(table.date_col(), dates))
    }
}

/// `release` to `kind`'s tag table.
fn join(kind: TagKind) -> RelationDef {
    match kind {
        TagKind::Programme => release_programme::Relation::Release.def().rev(),
        TagKind::Office => release_office::Relation::Release.def().rev(),
    }
}

/// Releases tagged with any of `ids`. The tag rows carry the release's date, so the date range
/// is applied inside the subquery too: it then reads only the matching part of the
/// `(tag, published_on, release_id)` index instead of every release of the tag (a count of one
/// programme over one year at 100,000 releases: 1.6 ms instead of 5–8 ms).
fn tagged_with(kind: TagKind, ids: Vec<i32>, dates: DateRange) -> Condition {
    let table = TagTable::of(kind);
    let releases = Query::select()
        .expr(table.release_col())
        .from(table.table.clone())
        .and_where(table.tag_col().is_in(ids))
        .cond_where(dates_of(table.date_col(), dates))
        .take();
    Condition::all().add(release::Column::Id.in_subquery(releases))
}

/// `column` within the inclusive `dates`.
pub fn dates_of(column: Expr, (from, to): DateRange) -> Condition {
    let mut condition = Condition::all();
    if let Some(from) = from {
        condition = condition.add(column.clone().gte(from));
    }
    if let Some(to) = to {
        condition = condition.add(column.lte(to));
    }
    condition
}

/// Publication dates a list allows, both ends optional.
pub type DateRange = (Option<NaiveDate>, Option<NaiveDate>);
