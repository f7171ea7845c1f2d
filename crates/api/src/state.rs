//! What every request handler shares, built once at startup: the database pool and the schema.

use std::fmt;

use sea_orm::DatabaseConnection;

use crate::schema::{ArchiveSchema, build_schema};

/// Shared by all handlers; cloning is cheap (both parts are reference-counted).
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub schema: ArchiveSchema,
}

impl AppState {
    pub fn new(db: DatabaseConnection) -> AppState {
        AppState {
            schema: build_schema(db.clone()),
            db,
        }
    }
}

impl fmt::Debug for AppState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}
