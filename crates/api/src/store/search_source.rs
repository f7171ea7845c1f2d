//! What the search index is built and kept in step from: the archive's identity, its releases
//! in id order a chunk at a time (each with its programme and office ids), and any releases by
//! id. The database is the source of truth; the index is derived from these reads alone.

use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use model::TagKind;
use model::entity::release;
use search::IndexedRelease;

use crate::store::tag_table::TagTable;
use crate::store::{Store, StoreError};

impl Store {
    /// Names the archive the index is built from: for PostgreSQL its cluster's system
    /// identifier, its database name and oid (a database dropped and created again under the
    /// same name is another archive); for SQLite, `sqlite`.
    pub async fn archive_identity(&self) -> Result<String, StoreError> {
        if self.db().get_database_backend() != DbBackend::Postgres {
            return Ok("sqlite".to_owned());
        }
        let query = Query::select()
            .expr_as(
                Expr::cust("(SELECT system_identifier FROM pg_control_system())::text"),
                Alias::new("system_identifier"),
            )
            .expr_as(
                Func::cust(Alias::new("current_database")),
                Alias::new("name"),
            )
            .expr_as(
                Expr::cust(
                    "(SELECT oid FROM pg_database WHERE datname = current_database())::text",
                ),
                Alias::new("oid"),
            )
            .take();
        let row = self.db().query_one(&query).await?.ok_or_else(|| {
            StoreError::Inconsistent("the identity query returned no row".to_owned())
        })?;
        let part = |column: &str| row.try_get::<String>("", column);
        Ok(format!(
            "postgresql {} {} {}",
            part("system_identifier")?,
            part("name")?,
            part("oid")?
        ))
    }

    /// How many releases the archive holds.
    pub async fn release_count(&self) -> Result<u64, StoreError> {
        Ok(release::Entity::find().count(self.db()).await?)
    }

    /// At most `limit` releases with ids above `after`, in id order, as the index holds them:
    /// three statements, each a range of a primary key (the releases, then their programmes
    /// and offices between the chunk's first and last id).
    pub async fn releases_to_index(
        &self,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<IndexedRelease>, StoreError> {
        let mut query = release::Entity::find().select_only().columns([
            release::Column::Id,
            release::Column::Title,
            release::Column::Summary,
            release::Column::PublishedOn,
        ]);
        if let Some(after) = after {
            query = query.filter(release::Column::Id.gt(after));
        }
        let rows: Vec<TextRow> = query
            .order_by_asc(release::Column::Id)
            .limit(limit)
            .into_tuple()
            .all(self.db())
            .await?;
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            return Ok(Vec::new());
        };
        let range = TagRange::Between(first.0, last.0);
        let (programmes, offices) = futures::try_join!(
            self.tag_ids_of(TagKind::Programme, &range),
            self.tag_ids_of(TagKind::Office, &range)
        )?;
        Ok(with_tags(rows, &programmes, &offices))
    }

    /// The releases `ids` that exist, as the index holds them.
    pub async fn releases_to_index_by_id(
        &self,
        ids: &[Uuid],
    ) -> Result<Vec<IndexedRelease>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<TextRow> = release::Entity::find()
            .select_only()
            .columns([
                release::Column::Id,
                release::Column::Title,
                release::Column::Summary,
                release::Column::PublishedOn,
            ])
            .filter(release::Column::Id.is_in(ids.iter().copied()))
            .into_tuple()
            .all(self.db())
            .await?;
        let range = TagRange::Ids(ids);
        let (programmes, offices) = futures::try_join!(
            self.tag_ids_of(TagKind::Programme, &range),
            self.tag_ids_of(TagKind::Office, &range)
        )?;
        Ok(with_tags(rows, &programmes, &offices))
    }

    async fn tag_ids_of(
        &self,
        kind: TagKind,
        releases: &TagRange<'_>,
    ) -> Result<HashMap<Uuid, Vec<i32>>, StoreError> {
        let table = TagTable::of(kind);
        let mut query = Query::select();
        query
            .expr(table.release_col())
            .expr(table.tag_col())
            .from(table.table.clone());
        match releases {
            TagRange::Between(first, last) => {
                query
                    .and_where(table.release_col().gte(*first))
                    .and_where(table.release_col().lte(*last));
            }
            TagRange::Ids(ids) => {
                query.and_where(table.release_col().is_in(ids.iter().copied()));
            }
        }
        let mut tags: HashMap<Uuid, Vec<i32>> = HashMap::new();
        for row in self.db().query_all(&query).await? {
            let release: Uuid = row.try_get_by_index(0)?;
            let tag: i32 = row.try_get_by_index(1)?;
            tags.entry(release).or_default().push(tag);
        }
        Ok(tags)
    }
}

/// A release's id, title, summary and date.
type TextRow = (Uuid, String, Option<String>, chrono::NaiveDate);

/// Which releases' tags to read.
enum TagRange<'a> {
    /// Ids from the first to the last, inclusive.
    Between(Uuid, Uuid),
    Ids(&'a [Uuid]),
}

fn with_tags(
    rows: Vec<TextRow>,
    programmes: &HashMap<Uuid, Vec<i32>>,
    offices: &HashMap<Uuid, Vec<i32>>,
) -> Vec<IndexedRelease> {
    rows.into_iter()
        .map(|(id, title, summary, published_on)| IndexedRelease {
            programmes: programmes.get(&id).cloned().unwrap_or_default(),
            offices: offices.get(&id).cloned().unwrap_or_default(),
            id,
            title,
            summary: summary.unwrap_or_default(),
            published_on,
        })
        .collect()
}
