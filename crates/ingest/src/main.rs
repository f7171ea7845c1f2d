//! `ingest`: load press-release listings into the archive database (see `ingest --help`).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use ingest::catalogue::Catalogue;
use ingest::generate::{DEFAULT_RELEASES_PER_FILE, GenerateOptions};
use ingest::tag::Tagger;
use ingest::{LoadOptions, ReleaseSource, prepare};
use migration::{Migrator, MigratorTrait};
use sea_orm::TransactionTrait;

/// Parse press-release listings, tag each release with the programmes and offices it concerns,
/// and load them into the archive database in one all-or-nothing transaction.
#[derive(Debug, Parser)]
#[command(version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// Listing files, or folders whose *.txt files are listings, relative to the working
    /// directory. None: the 40 seed releases built into the binary (the repository's `seeds/`).
    paths: Vec<PathBuf>,

    /// Database to load (postgres://… or sqlite://…). Defaults to the embedded SQLite file,
    /// `archive.sqlite` in the working directory.
    #[arg(long, env = "DATABASE_URL", default_value = database::DEFAULT_DATABASE_URL)]
    database_url: String,

    /// Catalogue of offices and programmes used for tagging, relative to the working directory.
    /// Default: the catalogue built into the binary (the repository's `seeds/catalogue.toml`).
    #[arg(long, env = "CATALOGUE")]
    catalogue: Option<PathBuf>,

    /// Apply pending database migrations before loading.
    #[arg(long, env = "MIGRATE")]
    migrate: bool,

    /// Set when DATABASE_URL goes through a pooler in transaction pooling mode (PgBouncer's
    /// `pool_mode = transaction`): the load still runs in one transaction, under its lock, with
    /// the statement cache off. --migrate then needs a direct URL and is refused.
    #[arg(long, env = "DATABASE_POOLER", value_enum, default_value_t = PoolerMode::None)]
    database_pooler: PoolerMode,

    /// Parse and tag only: print one JSON object per release and write nothing.
    #[arg(long)]
    dry_run: bool,

    /// Delete releases that are stored but absent from the given listings.
    #[arg(long, env = "PRUNE")]
    prune: bool,

    /// Log filter, e.g. `info` or `ingest=debug` (RUST_LOG syntax).
    #[arg(long, env = "LOG_LEVEL", default_value = "warn")]
    log_level: String,
}

/// `--database-pooler`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum PoolerMode {
    None,
    Transaction,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a synthetic corpus of listings in the seed format (for load and performance tests).
    Generate(GenerateArgs),
}

/// `ingest generate --releases N --seed S --out DIR`: the same options give byte-identical files.
#[derive(Debug, Args)]
struct GenerateArgs {
    /// Number of releases to generate.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    releases: u64,

    /// Seed of the random stream: the same seed and counts give byte-identical files.
    #[arg(long, default_value_t = 0)]
    seed: u64,

    /// Folder for generated-0001.txt, …; created if missing, stale generated-*.txt removed.
    #[arg(long)]
    out: PathBuf,

    /// Most releases per listing file.
    #[arg(long, default_value_t = DEFAULT_RELEASES_PER_FILE, value_parser = clap::value_parser!(u64).range(1..))]
    releases_per_file: u64,
}

/// Inputs this large get a progress bar when stderr is a terminal.
const PROGRESS_THRESHOLD: usize = 2_000;

#[tokio::main]
async fn main() -> ExitCode {
    let mut cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&cli.log_level))
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command.take() {
        Some(Command::Generate(args)) => generate(&args),
        None => run(cli).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", describe(&error));
            ExitCode::FAILURE
        }
    }
}

/// `error` and its causes on one line, as `{:#}` prints them, but each cause once: some
/// (sea-orm's database errors among them) repeat their own cause in their message.
fn describe(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let catalogue = ingest::load_catalogue(cli.catalogue.as_deref())?;
    let tagger = Tagger::new(&catalogue)?;
    if cli.paths.is_empty() {
        let input = ingest::seeds::listings(&catalogue, &tagger)?;
        execute(&cli, &catalogue, &input).await
    } else {
        let listings = prepare::find_listings(&cli.paths)?;
        let input = prepare::scan(&listings, &catalogue, &tagger)?;
        execute(&cli, &catalogue, &input).await
    }
}

/// Prints (`--dry-run`) or loads `input`.
async fn execute(
    cli: &Cli,
    catalogue: &Catalogue,
    input: &impl ReleaseSource,
) -> anyhow::Result<()> {
    if cli.dry_run {
        return print_releases(input);
    }

    let pooled = cli.database_pooler == PoolerMode::Transaction;
    anyhow::ensure!(
        !(pooled && cli.migrate),
        "--migrate cannot run through a transaction pooler (--database-pooler transaction): run it with a direct URL to the primary"
    );
    let settings = database::PoolSettings {
        pooler: if pooled {
            database::Pooler::Transaction
        } else {
            database::Pooler::None
        },
        ..database::PoolSettings::default()
    };
    let db = database::connect_with(&cli.database_url, &settings)
        .await
        .with_context(|| {
            format!(
                "cannot connect to {}",
                database::redact_url(&cli.database_url)
            )
        })?;
    if cli.migrate {
        Migrator::up(&db, None)
            .await
            .context("cannot apply migrations")?;
    } else {
        // In a transaction: through a transaction pooler, a statement outside one may lose its
        // server connection between its parse and its execution.
        let txn = db.begin().await.context("cannot begin a transaction")?;
        let pending = Migrator::get_pending_migrations(&txn)
            .await
            .context("cannot read the database's migration state")?;
        txn.commit()
            .await
            .context("cannot read the database's migration state")?;
        anyhow::ensure!(
            pending.is_empty(),
            "the database is missing {} schema migration(s); run again with --migrate",
            pending.len()
        );
    }
    let progress = if input.release_count() >= PROGRESS_THRESHOLD && std::io::stderr().is_terminal()
    {
        let bar = ProgressBar::with_draw_target(
            Some(input.release_count() as u64),
            ProgressDrawTarget::stderr(),
        );
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} releases ({per_sec}, {eta} left)")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let options = LoadOptions { prune: cli.prune };
    let report = ingest::load::load(&db, catalogue, input, options, &progress).await?;
    println!("{report}");
    Ok(())
}

fn generate(args: &GenerateArgs) -> anyhow::Result<()> {
    let report = ingest::generate::generate(&GenerateOptions {
        releases: args.releases,
        seed: args.seed,
        out: args.out.clone(),
        releases_per_file: args.releases_per_file,
    })?;
    println!("{report}");
    Ok(())
}

fn print_releases(input: &impl ReleaseSource) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for prepared in input.releases() {
        let prepared = prepared?;
        let release = &prepared.release;
        let line = json!({
            "id": prepared.id,
            "title": release.title,
            "publishedOn": release.published_on,
            "summary": release.summary,
            "imageCredit": release.image_credit,
            "programmes": prepared.tags.programmes.iter().map(|t| &t.slug).collect::<Vec<_>>(),
            "offices": prepared.tags.offices.iter().map(|t| &t.slug).collect::<Vec<_>>(),
            "matches": {
                "programmes": prepared.tags.programmes,
                "offices": prepared.tags.offices,
            },
            "source": { "file": prepared.source_file, "line": release.line },
        });
        writeln!(out, "{line}")?;
    }
    Ok(())
}
