//! Running the server: configuration (flags and environment), request limits, telemetry and
//! metrics. Nothing here knows the HTTP routes or the schema.

pub mod archive_changes;
pub mod config;
pub mod limits;
pub mod metrics;
pub mod read_routing;
pub mod search_sync;
pub mod telemetry;
pub mod wal_position;
