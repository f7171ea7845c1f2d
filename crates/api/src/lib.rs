//! GraphQL API over the ILO China and Mongolia press-release archive (async-graphql on axum).
//! `run` is the whole server; `build_schema`, `router` and `serve` let tests assemble the same
//! app on a database and port of their choosing.

pub mod assets;
pub mod config;
pub mod entity_tag;
pub mod error;
pub mod graphql_http;
pub mod limits;
pub mod metrics;
pub mod request_log;
pub mod response_cache;
pub mod routes;
pub mod schema;
pub mod startup;
pub mod state;
pub mod telemetry;

pub use config::{Cli, Command, Config};
pub use error::{ApiError, StartupError};
pub use limits::Limits;
pub use routes::router;
pub use schema::{ArchiveSchema, build_schema, sdl};
pub use startup::{run, serve, shutdown_signal};
pub use state::AppState;
