//! Logging: `tracing` events to stderr, filtered by the configured log level. Set up once, at
//! the start of `main`; the library itself only emits events.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::error::StartupError;

/// Installs the global subscriber. `filter` is a level or RUST_LOG-style directives.
pub fn init(filter: &str) -> Result<(), StartupError> {
    let env_filter = EnvFilter::try_new(filter).map_err(|error| StartupError::LogFilter {
        filter: filter.to_owned(),
        reason: error.to_string(),
    })?;
    tracing_subscriber::fmt()
        .with_env_filter(env_filter)
        .with_writer(std::io::stderr)
        // Colour codes only help a person at a terminal; log collectors get plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .try_init()
        .map_err(|error| StartupError::Telemetry(error.to_string()))
}
