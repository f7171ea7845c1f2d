//! GraphQL API over the ILO China and Mongolia press-release archive (async-graphql on axum).
//! `run` is the whole server; `build_schema`, `router` and `serve` let tests assemble the same
//! app on a database and port of their choosing.
//!
//! The folders are the layers, each using only those below it:
//! - `http/`: the HTTP edge (routes, GraphQL over HTTP, the response cache, static assets, the
//!   request log) and the state its handlers share;
//! - `schema/`: the GraphQL types and resolvers, which read through the store;
//! - `site/`: pages, feeds and the sitemap for people and search engines, rendered from the
//!   store;
//! - `store/`: the read layer, every SQL statement the API runs, knowing nothing of GraphQL;
//! - `ops/`: configuration, request limits, telemetry and metrics.
//!
//! `startup` assembles them; `error` is what a request or startup can fail with.

pub mod error;
pub mod http;
pub mod live;
pub mod ops;
pub mod schema;
pub mod site;
pub mod startup;
pub mod store;

pub use error::{ApiError, StartupError};
pub use http::routes::router;
pub use http::state::AppState;
pub use ops::config::{Cli, Command, Config};
pub use ops::limits::{ConnectionLimits, Limits};
pub use schema::{ArchiveSchema, build_schema, sdl};
pub use startup::{run, serve, serve_with, shutdown_signal};
pub use store::Store;
