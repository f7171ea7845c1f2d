//! Writes a run's input to the database in one transaction: the catalogue, then releases and
//! their tags in bulk, chunk by chunk as the input yields them (so memory does not grow with the
//! input), upserting on the release id. Concurrent runs are serialised (an advisory lock on
//! PostgreSQL, the write lock on SQLite), so they never interleave. Every release it
//! publishes, visibly changes or prunes gets a row in the `release_change` log in the same
//! transaction: serialised runs make its sequence the commit order, which live subscriptions
//! follow.

use std::collections::HashMap;
use std::fmt;

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, QueryFilter, QuerySelect, Set, Statement,
    TransactionTrait,
};
use serde::Serialize;
use uuid::Uuid;

use model::TagKind;
use model::entity::release_change::{self, ChangeKind};
use model::entity::{
    ingest_run, office, programme, programme_office, release, release_office, release_programme,
};

use crate::IngestError;
use crate::catalogue::Catalogue;
use crate::prepare::{PreparedRelease, ReleaseSource};
use crate::progress::Progress;
use crate::slug::SlugAllocator;
use crate::tag::Tag;

/// Rows per bulk statement: well under PostgreSQL's 65,535 and SQLite's 32,766 bind parameters.
const CHUNK: usize = 500;

/// Key of the PostgreSQL advisory lock that serialises ingest runs.
const INGEST_LOCK_KEY: i64 = 0x7072_6573_7372_6f6f; // "pressroo"

/// What the run should do beyond upserting its input.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions {
    /// Delete releases that are in the database but not in this run's input.
    pub prune: bool,
}

/// What a run changed, as printed at its end and stored in `ingest_run`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LoadReport {
    pub releases: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub pruned: u64,
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} releases: {} inserted, {} updated, {} unchanged",
            self.releases, self.inserted, self.updated, self.unchanged
        )?;
        if self.pruned > 0 {
            write!(f, ", {} pruned", self.pruned)?;
        }
        Ok(())
    }
}

/// Errors while writing; the transaction is rolled back and the database keeps what it had.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The cause is the source, printed by whoever prints the chain.
    #[error("the database failed")]
    Database(#[from] DbErr),
    #[error("{kind} \"{slug}\" is used by a release but missing from the catalogue")]
    NotInCatalogue { kind: TagKind, slug: String },
}

/// Loads `input` all-or-nothing and records the run in `ingest_run`. Any error, from the
/// database or from reading the input, rolls back everything the run wrote. `progress` hears of
/// every chunk written, and of the commit.
pub async fn load(
    db: &DatabaseConnection,
    catalogue: &Catalogue,
    input: &impl ReleaseSource,
    options: LoadOptions,
    progress: &impl Progress,
) -> Result<LoadReport, IngestError> {
    progress.set_length(input.release_count() as u64);
    let txn = db.begin().await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT pg_advisory_xact_lock({INGEST_LOCK_KEY})"),
        ))
        .await?;
    }
    // On SQLite this first write takes the database's write lock for the whole run.
    let run = ingest_run::ActiveModel {
        id: NotSet,
        started_at: Set(Utc::now()),
        finished_at: Set(None),
        files: Set(serde_json::to_value(input.files()).unwrap_or_default()),
        releases: Set(count(input.release_count())),
        inserted: Set(0),
        updated: Set(0),
        unchanged: Set(0),
        pruned: Set(0),
    }
    .insert(&txn)
    .await?;

    let ids = sync_catalogue(&txn, catalogue).await?;
    let mut report = LoadReport {
        releases: input.release_count() as u64,
        ..LoadReport::default()
    };
    let mut releases = input.releases();
    loop {
        let chunk = releases
            .by_ref()
            .take(CHUNK)
            .collect::<Result<Vec<_>, _>>()?;
        if chunk.is_empty() {
            break;
        }
        load_chunk(&txn, &ids, &chunk, &mut report).await?;
        progress.advance(chunk.len() as u64);
    }
    if options.prune {
        report.pruned = prune(&txn, input).await?;
    }
    if report.inserted + report.updated + report.pruned > 0 {
        crate::counts::refresh_counts(&txn).await?;
    }

    let mut run: ingest_run::ActiveModel = run.into();
    run.finished_at = Set(Some(Utc::now()));
    run.inserted = Set(count(report.inserted));
    run.updated = Set(count(report.updated));
    run.unchanged = Set(count(report.unchanged));
    run.pruned = Set(count(report.pruned));
    run.update(&txn).await?;
    txn.commit().await?;
    // The moment readers can see the run: what the live-update benchmark times delivery from.
    tracing::info!(%report, "committed");
    progress.finish();
    Ok(report)
}

fn count(n: impl TryInto<i32>) -> i32 {
    n.try_into().unwrap_or(i32::MAX)
}

/// Database ids of the catalogue's offices and programmes, by slug.
struct CatalogueIds {
    offices: HashMap<String, i32>,
    programmes: HashMap<String, i32>,
}

impl CatalogueIds {
    fn resolve(
        &self,
        kind: TagKind,
        tags: &[Tag],
    ) -> Result<Vec<(i32, Option<String>)>, LoadError> {
        let ids = match kind {
            TagKind::Programme => &self.programmes,
            TagKind::Office => &self.offices,
        };
        let mut resolved = tags
            .iter()
            .map(|tag| {
                ids.get(&tag.slug)
                    .map(|&id| (id, tag.matched_alias.clone()))
                    .ok_or_else(|| LoadError::NotInCatalogue {
                        kind,
                        slug: tag.slug.clone(),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        resolved.sort();
        Ok(resolved)
    }
}

/// Upserts offices and programmes by slug (the catalogue is the source of truth for their
/// names and descriptions) and replaces which offices run each programme.
async fn sync_catalogue(
    txn: &DatabaseTransaction,
    catalogue: &Catalogue,
) -> Result<CatalogueIds, LoadError> {
    let offices = catalogue.offices.iter().map(|entry| office::ActiveModel {
        id: NotSet,
        slug: Set(entry.slug.clone()),
        name: Set(entry.name.clone()),
        acronym: Set(entry.acronym.clone()),
        description: Set(Some(entry.description.clone())),
        city: Set(entry.city.clone()),
        countries: Set(serde_json::Value::from(entry.countries.clone())),
    });
    office::Entity::insert_many(offices)
        .on_conflict(
            OnConflict::column(office::Column::Slug)
                .update_columns([
                    office::Column::Name,
                    office::Column::Acronym,
                    office::Column::Description,
                    office::Column::City,
                    office::Column::Countries,
                ])
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    let programmes = catalogue
        .programmes
        .iter()
        .map(|entry| programme::ActiveModel {
            id: NotSet,
            slug: Set(entry.slug.clone()),
            name: Set(entry.name.clone()),
            acronym: Set(entry.acronym.clone()),
            description: Set(Some(entry.description.clone())),
        });
    programme::Entity::insert_many(programmes)
        .on_conflict(
            OnConflict::column(programme::Column::Slug)
                .update_columns([
                    programme::Column::Name,
                    programme::Column::Acronym,
                    programme::Column::Description,
                ])
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;

    let ids = CatalogueIds {
        offices: office::Entity::find()
            .all(txn)
            .await?
            .into_iter()
            .map(|o| (o.slug, o.id))
            .collect(),
        programmes: programme::Entity::find()
            .all(txn)
            .await?
            .into_iter()
            .map(|p| (p.slug, p.id))
            .collect(),
    };

    let programme_ids: Vec<i32> = ids.programmes.values().copied().collect();
    programme_office::Entity::delete_many()
        .filter(programme_office::Column::ProgrammeId.is_in(programme_ids))
        .exec(txn)
        .await?;
    let mut links = Vec::new();
    for entry in &catalogue.programmes {
        let programme_id = ids.programmes[&entry.slug];
        for office_slug in &entry.offices {
            let office_id =
                *ids.offices
                    .get(office_slug)
                    .ok_or_else(|| LoadError::NotInCatalogue {
                        kind: TagKind::Office,
                        slug: office_slug.clone(),
                    })?;
            links.push(programme_office::ActiveModel {
                programme_id: Set(programme_id),
                office_id: Set(office_id),
            });
        }
    }
    if !links.is_empty() {
        programme_office::Entity::insert_many(links)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(ids)
}

/// The desired state of one release, to compare with what the database holds.
struct Desired<'a> {
    prepared: &'a PreparedRelease,
    programmes: Vec<(i32, Option<String>)>,
    offices: Vec<(i32, Option<String>)>,
}

impl Desired<'_> {
    fn row_matches(&self, row: &release::Model) -> bool {
        let r = &self.prepared.release;
        row.title == r.title
            && row.summary == r.summary
            && row.image_credit == r.image_credit
            && row.source_file == self.prepared.source_file
            && row.source_line == count(r.line)
    }

    /// Whether a reader would see no difference: the same title (its spelling may change
    /// without changing the id), summary, image credit, programmes and offices. Where it was
    /// read from, and which alias matched, are not shown.
    fn looks_like(
        &self,
        row: &release::Model,
        programmes: &[(i32, Option<String>)],
        offices: &[(i32, Option<String>)],
    ) -> bool {
        let r = &self.prepared.release;
        let ids =
            |tags: &[(i32, Option<String>)]| tags.iter().map(|(id, _)| *id).collect::<Vec<_>>();
        row.title == r.title
            && row.summary == r.summary
            && row.image_credit == r.image_credit
            && ids(programmes) == ids(&self.programmes)
            && ids(offices) == ids(&self.offices)
    }

    fn row(&self, slug: String, created_at: chrono::DateTime<Utc>) -> release::ActiveModel {
        let r = &self.prepared.release;
        release::ActiveModel {
            id: Set(self.prepared.id),
            slug: Set(slug),
            title: Set(r.title.clone()),
            published_on: Set(r.published_on),
            summary: Set(r.summary.clone()),
            image_credit: Set(r.image_credit.clone()),
            source_file: Set(self.prepared.source_file.clone()),
            source_line: Set(count(r.line)),
            created_at: Set(created_at),
            updated_at: Set(Utc::now()),
        }
    }
}

async fn load_chunk(
    txn: &DatabaseTransaction,
    ids: &CatalogueIds,
    chunk: &[PreparedRelease],
    report: &mut LoadReport,
) -> Result<(), LoadError> {
    let chunk_ids: Vec<Uuid> = chunk.iter().map(|r| r.id).collect();
    let existing: HashMap<Uuid, release::Model> = release::Entity::find()
        .filter(release::Column::Id.is_in(chunk_ids.clone()))
        .all(txn)
        .await?
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    let mut existing_programmes: HashMap<Uuid, Vec<(i32, Option<String>)>> = HashMap::new();
    for tag in release_programme::Entity::find()
        .filter(release_programme::Column::ReleaseId.is_in(chunk_ids.clone()))
        .all(txn)
        .await?
    {
        existing_programmes
            .entry(tag.release_id)
            .or_default()
            .push((tag.programme_id, tag.matched_alias));
    }
    let mut existing_offices: HashMap<Uuid, Vec<(i32, Option<String>)>> = HashMap::new();
    for tag in release_office::Entity::find()
        .filter(release_office::Column::ReleaseId.is_in(chunk_ids))
        .all(txn)
        .await?
    {
        existing_offices
            .entry(tag.release_id)
            .or_default()
            .push((tag.office_id, tag.matched_alias));
    }

    let mut new = Vec::new();
    let mut changed = Vec::new();
    let mut updated_ids = Vec::new();
    for prepared in chunk {
        let desired = Desired {
            prepared,
            programmes: ids.resolve(TagKind::Programme, &prepared.tags.programmes)?,
            offices: ids.resolve(TagKind::Office, &prepared.tags.offices)?,
        };
        match existing.get(&prepared.id) {
            None => new.push(desired),
            Some(row) => {
                let mut programmes = existing_programmes.remove(&prepared.id).unwrap_or_default();
                let mut offices = existing_offices.remove(&prepared.id).unwrap_or_default();
                programmes.sort();
                offices.sort();
                if desired.row_matches(row)
                    && programmes == desired.programmes
                    && offices == desired.offices
                {
                    report.unchanged += 1;
                } else {
                    if !desired.looks_like(row, &programmes, &offices) {
                        updated_ids.push(prepared.id);
                    }
                    changed.push((desired, row));
                }
            }
        }
    }
    report.inserted += new.len() as u64;
    report.updated += changed.len() as u64;

    let titles: Vec<(&str, chrono::NaiveDate, Uuid)> = new
        .iter()
        .map(|d| {
            (
                d.prepared.release.title.as_str(),
                d.prepared.release.published_on,
                d.prepared.id,
            )
        })
        .collect();
    // Slugs given by earlier chunks are already stored, so the allocator only has to remember
    // this chunk's: memory stays flat however many releases the run has.
    let new_slugs = SlugAllocator::default().allocate(txn, &titles).await?;
    let now = Utc::now();
    let mut rows: Vec<release::ActiveModel> = new
        .iter()
        .zip(new_slugs)
        .map(|(desired, slug)| desired.row(slug, now))
        .collect();
    if !rows.is_empty() {
        release::Entity::insert_many(std::mem::take(&mut rows))
            .exec_without_returning(txn)
            .await?;
    }
    if !changed.is_empty() {
        // Slugs are kept on update so that links to a release never break.
        let updates = changed
            .iter()
            .map(|(desired, row)| desired.row(row.slug.clone(), row.created_at));
        release::Entity::insert_many(updates)
            .on_conflict(
                OnConflict::column(release::Column::Id)
                    .update_columns([
                        release::Column::Title,
                        release::Column::Summary,
                        release::Column::ImageCredit,
                        release::Column::SourceFile,
                        release::Column::SourceLine,
                        release::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
        let changed_ids: Vec<Uuid> = changed.iter().map(|(d, _)| d.prepared.id).collect();
        release_programme::Entity::delete_many()
            .filter(release_programme::Column::ReleaseId.is_in(changed_ids.clone()))
            .exec(txn)
            .await?;
        release_office::Entity::delete_many()
            .filter(release_office::Column::ReleaseId.is_in(changed_ids))
            .exec(txn)
            .await?;
    }

    let published = new
        .iter()
        .map(|desired| (desired.prepared.id, ChangeKind::Published));
    let updated = updated_ids.into_iter().map(|id| (id, ChangeKind::Updated));
    log_changes(txn, published.chain(updated)).await?;

    let tagged = new.iter().chain(changed.iter().map(|(d, _)| d));
    let mut programme_rows = Vec::new();
    let mut office_rows = Vec::new();
    for desired in tagged {
        let release_id = desired.prepared.id;
        let published_on = desired.prepared.release.published_on;
        for (programme_id, alias) in &desired.programmes {
            programme_rows.push(release_programme::ActiveModel {
                release_id: Set(release_id),
                programme_id: Set(*programme_id),
                published_on: Set(published_on),
                matched_alias: Set(alias.clone()),
            });
        }
        for (office_id, alias) in &desired.offices {
            office_rows.push(release_office::ActiveModel {
                release_id: Set(release_id),
                office_id: Set(*office_id),
                published_on: Set(published_on),
                matched_alias: Set(alias.clone()),
            });
        }
    }
    for rows in programme_rows.chunks(CHUNK * 2) {
        release_programme::Entity::insert_many(rows.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    for rows in office_rows.chunks(CHUNK * 2) {
        release_office::Entity::insert_many(rows.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// Deletes the releases (and their tags) that this run's input does not contain.
async fn prune(txn: &DatabaseTransaction, input: &impl ReleaseSource) -> Result<u64, LoadError> {
    let stored: Vec<Uuid> = release::Entity::find()
        .select_only()
        .column(release::Column::Id)
        .into_tuple()
        .all(txn)
        .await?;
    let doomed: Vec<Uuid> = stored
        .into_iter()
        .filter(|id| !input.contains(id))
        .collect();
    for ids in doomed.chunks(CHUNK) {
        release_programme::Entity::delete_many()
            .filter(release_programme::Column::ReleaseId.is_in(ids.to_vec()))
            .exec(txn)
            .await?;
        release_office::Entity::delete_many()
            .filter(release_office::Column::ReleaseId.is_in(ids.to_vec()))
            .exec(txn)
            .await?;
        release::Entity::delete_many()
            .filter(release::Column::Id.is_in(ids.to_vec()))
            .exec(txn)
            .await?;
        log_changes(txn, ids.iter().map(|&id| (id, ChangeKind::Removed))).await?;
    }
    Ok(doomed.len() as u64)
}

/// Appends `changes` to the change log, numbered in the order given.
async fn log_changes(
    txn: &DatabaseTransaction,
    changes: impl Iterator<Item = (Uuid, ChangeKind)>,
) -> Result<(), LoadError> {
    let rows: Vec<release_change::ActiveModel> = changes
        .map(|(release_id, kind)| release_change::ActiveModel {
            seq: NotSet,
            release_id: Set(release_id),
            kind: Set(kind.code()),
        })
        .collect();
    for rows in rows.chunks(CHUNK) {
        release_change::Entity::insert_many(rows.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}
