//! `api`: serve the archive over GraphQL (`api --help`), or print its schema (`api schema`).

use anyhow::Context;
use clap::Parser;

use api::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Schema) => {
            print!("{}", api::sdl());
            Ok(())
        }
        None => {
            api::telemetry::init(&cli.config.log_level, cli.config.log_format)?;
            api::run(cli.config).await.context("the API server failed")
        }
    }
}
