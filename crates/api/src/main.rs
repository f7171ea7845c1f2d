//! `api`: serve the archive over GraphQL (`api --help`), or print its schema (`api schema`).

use anyhow::Context;
use clap::Parser;

use api::{Cli, Command};

// Every request allocates and frees thousands of small objects across the worker threads; with
// glibc's allocator that was the largest item in the profile of a page of releases, and
// mimalloc answers 5–10% more requests per second (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Schema) => {
            print!("{}", api::sdl());
            Ok(())
        }
        None => {
            api::ops::telemetry::init(&cli.config.log_level, cli.config.log_format)?;
            api::run(cli.config).await.context("the API server failed")
        }
    }
}
