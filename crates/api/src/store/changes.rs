//! The change log (`release_change`) as live subscriptions read it: where the stream stands,
//! where a release stands in it, what changed after a position (all of it, for the feed shared
//! by every subscriber; or what one filter matches, for a replay), and the releases those
//! changes concern with their programmes and offices, in one statement.

use std::collections::{HashMap, HashSet};

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};
use uuid::Uuid;

use model::entity::release;
use model::entity::release_change::{self, ChangeKind};

use crate::store::criteria::{Criteria, Scope};
use crate::store::search::SearchQuery;
use crate::store::tags::{EmbeddedTags, TagSelection};
use crate::store::{Store, StoreError};

/// One logged change: its place in the stream, its release, what it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub seq: i64,
    pub release_id: Uuid,
    pub kind: ChangeKind,
}

impl Change {
    fn read(row: release_change::Model) -> Result<Change, StoreError> {
        let kind = ChangeKind::from_code(row.kind).ok_or_else(|| {
            StoreError::Inconsistent(format!(
                "release_change {} has the unknown kind {}",
                row.seq, row.kind
            ))
        })?;
        Ok(Change {
            seq: row.seq,
            release_id: row.release_id,
            kind,
        })
    }
}

/// A release as a change delivers it: its row and both tag lists.
pub type ReleaseWithTags = (release::Model, EmbeddedTags);

impl Store {
    /// The position of the newest change, 0 when nothing was ever logged.
    pub async fn latest_change(&self) -> Result<i64, StoreError> {
        let query = Query::select()
            .expr(Expr::col(release_change::Column::Seq).max())
            .from(release_change::Entity)
            .take();
        let row = self.db().query_one(&query).await?;
        Ok(match row {
            Some(row) => row.try_get_by_index::<Option<i64>>(0)?.unwrap_or(0),
            None => 0,
        })
    }

    /// The position of the last change of release `id`, if it was ever logged.
    pub async fn last_change_of(&self, id: Uuid) -> Result<Option<i64>, StoreError> {
        let query = Query::select()
            .expr(Expr::col(release_change::Column::Seq).max())
            .from(release_change::Entity)
            .and_where(release_change::Column::ReleaseId.eq(id))
            .take();
        let row = self.db().query_one(&query).await?;
        Ok(match row {
            Some(row) => row.try_get_by_index::<Option<i64>>(0)?,
            None => None,
        })
    }

    /// At most `limit` changes after position `after`, oldest first.
    pub async fn changes_after(&self, after: i64, limit: u64) -> Result<Vec<Change>, StoreError> {
        release_change::Entity::find()
            .filter(release_change::Column::Seq.gt(after))
            .order_by_asc(release_change::Column::Seq)
            .limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(Change::read)
            .collect()
    }

    /// At most `limit` changes in `(after, upto]` of `kinds`, oldest first, that `criteria`
    /// match: a publication or update whose release, as it is now, matches (by the same
    /// conditions as a `releases` list), and every removal (a removed release can no longer be
    /// matched).
    pub async fn matching_changes(
        &self,
        (after, upto): (i64, i64),
        criteria: &Criteria,
        kinds: &[ChangeKind],
        limit: u64,
    ) -> Result<Vec<Change>, StoreError> {
        let dialect = self.dialect()?;
        let matching = release::Entity::find()
            .select_only()
            .column(release::Column::Id)
            .filter(criteria.condition(dialect, Scope::Archive))
            .into_query();
        let removed = ChangeKind::Removed.code();
        release_change::Entity::find()
            .filter(release_change::Column::Seq.gt(after))
            .filter(release_change::Column::Seq.lte(upto))
            .filter(release_change::Column::Kind.is_in(kinds.iter().map(|kind| kind.code())))
            .filter(
                Condition::any()
                    .add(release_change::Column::Kind.eq(removed))
                    .add(release_change::Column::ReleaseId.in_subquery(matching)),
            )
            .order_by_asc(release_change::Column::Seq)
            .limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(Change::read)
            .collect()
    }

    /// The releases `ids` that still exist, each with its programmes and offices (one
    /// statement).
    pub async fn releases_with_tags(
        &self,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, ReleaseWithTags>, StoreError> {
        let tags = TagSelection {
            programmes: true,
            offices: true,
        };
        self.releases_with_tag_selection(ids, tags).await
    }

    /// The releases `ids` that still exist, each with the selected tag lists (one statement).
    pub async fn releases_with_tag_selection(
        &self,
        ids: &[Uuid],
        tags: TagSelection,
    ) -> Result<HashMap<Uuid, ReleaseWithTags>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let dialect = self.dialect()?;
        let query = release::Entity::find().filter(release::Column::Id.is_in(ids.iter().copied()));
        let statement = tags.add_columns(query, dialect).build(dialect.backend());
        let rows = self.db().query_all_raw(statement).await?;
        let mut releases = HashMap::with_capacity(rows.len());
        for row in rows {
            let model = release::Model::from_query_result(&row, "")?;
            releases.insert(model.id, (model, EmbeddedTags::read(&row, tags)));
        }
        Ok(releases)
    }

    /// Which of the releases `ids` `search` finds, by the very condition a searched
    /// `releases` list uses.
    pub async fn search_among(
        &self,
        ids: &[Uuid],
        search: &SearchQuery,
    ) -> Result<HashSet<Uuid>, StoreError> {
        if ids.is_empty() || search.is_empty() {
            return Ok(HashSet::new());
        }
        let dialect = self.dialect()?;
        let found: Vec<Uuid> = release::Entity::find()
            .select_only()
            .column(release::Column::Id)
            .filter(release::Column::Id.is_in(ids.iter().copied()))
            .filter(dialect.matches(search))
            .into_tuple()
            .all(self.db())
            .await?;
        Ok(found.into_iter().collect())
    }
}
