//! The archive's database schema, as an ordered list of sea-orm migrations.
//! A migration that has shipped is never edited: schema changes are new migrations.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_create_archive;
mod m20261124_000001_release_search;
mod m20261124_000002_release_counts;
mod m20261125_000001_read_only_role;
mod m20261202_000001_archive_changed_notify;
mod m20261207_000001_release_stored_order;
mod m20261207_000002_release_change;

pub use m20261202_000001_archive_changed_notify::CHANNEL as ARCHIVE_CHANGED_CHANNEL;

/// The `archive_changed` payload of a commit that logged release changes.
pub const RELEASE_CHANGE_TABLE: &str = "release_change";

/// Applies the archive's migrations in order.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_archive::Migration),
            Box::new(m20261124_000001_release_search::Migration),
            Box::new(m20261124_000002_release_counts::Migration),
            Box::new(m20261125_000001_read_only_role::Migration),
            Box::new(m20261202_000001_archive_changed_notify::Migration),
            Box::new(m20261207_000001_release_stored_order::Migration),
            Box::new(m20261207_000002_release_change::Migration),
        ]
    }
}
