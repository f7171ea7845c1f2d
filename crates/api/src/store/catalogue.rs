//! Programmes and offices: all of them, one by slug, and slugs resolved to ids.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use model::TagKind;
use model::entity::{office, programme};

use crate::store::{Store, StoreError};

/// Slugs of a filter resolved to ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// Every slug is known: their distinct ids, ascending.
    Ids(Vec<i32>),
    /// `unknown` is not a slug of the kind; `valid` lists every slug there is, in order.
    Unknown { unknown: String, valid: Vec<String> },
}

impl Store {
    /// Every programme, by name then slug.
    pub async fn programmes(&self) -> Result<Vec<programme::Model>, StoreError> {
        Ok(programme::Entity::find()
            .order_by_asc(programme::Column::Name)
            .order_by_asc(programme::Column::Slug)
            .all(self.db())
            .await?)
    }

    /// Every office, by name then slug.
    pub async fn offices(&self) -> Result<Vec<office::Model>, StoreError> {
        Ok(office::Entity::find()
            .order_by_asc(office::Column::Name)
            .order_by_asc(office::Column::Slug)
            .all(self.db())
            .await?)
    }

    pub async fn programme_by_slug(
        &self,
        slug: &str,
    ) -> Result<Option<programme::Model>, StoreError> {
        Ok(programme::Entity::find()
            .filter(programme::Column::Slug.eq(slug))
            .one(self.db())
            .await?)
    }

    pub async fn office_by_slug(&self, slug: &str) -> Result<Option<office::Model>, StoreError> {
        Ok(office::Entity::find()
            .filter(office::Column::Slug.eq(slug))
            .one(self.db())
            .await?)
    }

    /// The ids of the `kind` slugs `slugs`: one query, and a second one listing the valid slugs
    /// only when one is unknown (the first unknown, in the order asked).
    pub async fn resolve_slugs(
        &self,
        kind: TagKind,
        slugs: &[String],
    ) -> Result<Resolved, StoreError> {
        // The catalogue a searching request names its tags and facets from, when this request
        // or an earlier one has it at hand: no statement at all.
        if let Some((programmes, offices)) = self.catalogue_at_hand() {
            let mut every: Vec<(i32, String)> = match kind {
                TagKind::Programme => programmes.into_iter().map(|p| (p.id, p.slug)).collect(),
                TagKind::Office => offices.into_iter().map(|o| (o.id, o.slug)).collect(),
            };
            every.sort_by(|a, b| a.1.cmp(&b.1));
            return Ok(resolved_among(slugs, every));
        }
        let found: Vec<(i32, String)> = match kind {
            TagKind::Programme => self.slugs_of::<programme::Entity>(Some(slugs)).await?,
            TagKind::Office => self.slugs_of::<office::Entity>(Some(slugs)).await?,
        };
        if slugs
            .iter()
            .all(|slug| found.iter().any(|(_, known)| known == slug))
        {
            return Ok(resolved_among(slugs, found));
        }
        let every: Vec<(i32, String)> = match kind {
            TagKind::Programme => self.slugs_of::<programme::Entity>(None).await?,
            TagKind::Office => self.slugs_of::<office::Entity>(None).await?,
        };
        Ok(resolved_among(slugs, every))
    }

    /// `(id, slug)` of the catalogue entries of `E` whose slug is one of `slugs` (all of them
    /// when `None`), by slug.
    async fn slugs_of<E: CatalogueEntity>(
        &self,
        slugs: Option<&[String]>,
    ) -> Result<Vec<(i32, String)>, StoreError> {
        let mut query = E::find()
            .select_only()
            .column(E::ID)
            .column(E::SLUG)
            .order_by_asc(E::SLUG);
        if let Some(slugs) = slugs {
            query = query.filter(E::SLUG.is_in(slugs.iter().cloned()));
        }
        Ok(query.into_tuple().all(self.db()).await?)
    }
}

/// `programme` and `office`: entries with an integer `id` and a unique `slug`.
trait CatalogueEntity: EntityTrait {
    const ID: Self::Column;
    const SLUG: Self::Column;
}

impl CatalogueEntity for programme::Entity {
    const ID: programme::Column = programme::Column::Id;
    const SLUG: programme::Column = programme::Column::Slug;
}

impl CatalogueEntity for office::Entity {
    const ID: office::Column = office::Column::Id;
    const SLUG: office::Column = office::Column::Slug;
}

/// `slugs` resolved among `every` entry (`(id, slug)`, by slug): the first unknown slug with
/// every valid one, else their distinct ids, ascending.
fn resolved_among(slugs: &[String], every: Vec<(i32, String)>) -> Resolved {
    if let Some(unknown) = slugs
        .iter()
        .find(|slug| !every.iter().any(|(_, known)| known == *slug))
    {
        return Resolved::Unknown {
            unknown: unknown.clone(),
            valid: every.into_iter().map(|(_, slug)| slug).collect(),
        };
    }
    let mut ids: Vec<i32> = every
        .into_iter()
        .filter(|(_, slug)| slugs.contains(slug))
        .map(|(id, _)| id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    Resolved::Ids(ids)
}
