//! Bringing the server up: open the database, migrate and ingest when the plan says so, bind,
//! and serve until Ctrl-C or SIGTERM, letting requests in flight finish.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use migration::{Migrator, MigratorTrait};
use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
use sea_orm::{DatabaseBackend, DatabaseConnection};
use tokio::net::TcpListener;

use crate::error::StartupError;
use crate::http::graphql_http::GRAPHQL_PATH;
use crate::http::response_cache::ResponseCache;
use crate::http::routes::router;
use crate::http::server::serve_connections;
use crate::http::state::AppState;
use crate::ops::archive_changes::ArchiveChanges;
use crate::ops::config::{Config, IngestPlan, StartupPlan};
use crate::ops::limits::ConnectionLimits;
use crate::ops::read_routing::ReadRouting;
use crate::ops::search_sync;
use crate::store::Store;

/// Runs the server as configured, until a shutdown signal.
pub async fn run(config: Config) -> Result<(), StartupError> {
    let plan = config.startup_plan();
    let pool = config.pool_settings();
    if pool.pooler == database::Pooler::Transaction {
        if plan.migrate || plan.ingest != IngestPlan::Nothing {
            return Err(StartupError::ThroughPooler);
        }
        if config.listen_url.is_none() {
            return Err(StartupError::PoolerWithoutListenUrl);
        }
    }
    // A start that fails must not leave a half-made embedded archive behind: the next start
    // would take it for a real one.
    let created = (plan.database_url == database::DEFAULT_DATABASE_URL
        && !Path::new(database::DEFAULT_SQLITE_FILE).exists())
    .then_some(database::DEFAULT_SQLITE_FILE);
    let db = match prepare_database(&config, &plan).await {
        Ok(db) => db,
        Err(error) => {
            if let Some(file) = created {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    // Best effort: a file that is not there is already what we want.
                    let _ = std::fs::remove_file(format!("{file}{suffix}"));
                }
            }
            return Err(error);
        }
    };

    let listener = TcpListener::bind(config.bind)
        .await
        .map_err(|source| StartupError::Bind {
            address: config.bind,
            source,
        })?;
    let address = listener.local_addr().map_err(StartupError::Serve)?;
    println!("Explorer:           http://{address}/");
    println!("GraphQL playground: http://{address}{GRAPHQL_PATH}");
    let capacity = config.response_cache_mib.saturating_mul(1024 * 1024);
    // One listener for the process, shared by the response cache and the subscriptions.
    let changes = match &config.listen_url {
        Some(url) => Some(ArchiveChanges::follow_at(url.parse().map_err(
            |source| StartupError::ListenUrl {
                url: database::redact_url(url),
                source,
            },
        )?)),
        None => ArchiveChanges::follow(&db),
    };
    let reads = if config.replica_urls.is_empty() {
        ReadRouting::primary_only(Store::over(db.clone(), &pool))
    } else {
        ReadRouting::with_replicas(
            db.clone(),
            &database::redact_url(&plan.database_url),
            &config.replica_urls,
            &pool,
            config.replica_settings(),
            changes.clone(),
        )
        .await?
    };
    let search = match config.search_index_location(&plan.database_url) {
        None => None,
        Some(location) => Some(
            search_sync::start(
                location,
                config.rebuild_search_index,
                Store::over(db.clone(), &pool),
                changes.clone(),
            )
            .await
            .map_err(|error| StartupError::SearchIndex(Box::new(error)))?,
        ),
    };
    let cache = changes
        .as_ref()
        .and_then(|changes| ResponseCache::new(changes, capacity));
    if changes.is_none() {
        tracing::info!(
            "response cache and subscriptions off: only PostgreSQL notifies the server of changes to the archive"
        );
    }
    let mut state = AppState::with_limits(db, config.limits.clone())
        .with_pool_settings(&pool)
        .with_subscription_limits(config.subscription_limits.clone())
        .with_cors_origins(&config.cors_origins)?
        .with_public_url(config.public_url.as_deref())?
        .with_response_cache(cache)
        .with_read_routing(reads);
    if let Some(search) = search {
        state = state.with_search_engine(search.engine, search.freshness);
    }
    if let Some(changes) = &changes {
        state = state.following(changes);
    }
    raise_open_files_limit();
    serve_with(
        listener,
        state,
        &config.connection_limits,
        shutdown_signal(),
    )
    .await
}

/// Connects, then migrates and loads as the plan says.
async fn prepare_database(
    config: &Config,
    plan: &StartupPlan,
) -> Result<DatabaseConnection, StartupError> {
    let shown_url = database::redact_url(&plan.database_url);
    let db = database::connect_with(&plan.database_url, &config.pool_settings())
        .await
        .map_err(|source| StartupError::Connect {
            url: shown_url.clone(),
            source,
        })?;
    tracing::info!(database = %shown_url, "connected");
    if plan.migrate {
        Migrator::up(&db, None)
            .await
            .map_err(StartupError::Migrate)?;
        tracing::info!("migrations applied");
    }
    let listings = match &plan.ingest {
        IngestPlan::Nothing => None,
        IngestPlan::Seeds => Some(ingest::Listings::Seeds),
        IngestPlan::Paths(paths) => Some(ingest::Listings::Paths(paths)),
    };
    if let Some(listings) = listings {
        let report = ingest::ingest(
            &db,
            config.catalogue.as_deref(),
            listings,
            ingest::LoadOptions::default(),
            &ingest::NoProgress,
        )
        .await?;
        tracing::info!(listings = ?plan.ingest, "ingested {report}");
    }
    Ok(db)
}

/// Serves the app on `listener` with the default connection limits until `shutdown` completes,
/// then waits for requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartupError> {
    serve_with(listener, state, &ConnectionLimits::default(), shutdown).await
}

/// [`serve`] within `limits`.
pub async fn serve_with(
    listener: TcpListener,
    state: AppState,
    limits: &ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartupError> {
    let max_connections = limits.max_connections_for(open_files_limit(), pool_size(&state.db));
    if let Ok(address) = listener.local_addr() {
        tracing::info!(%address, max_connections, "listening");
    }
    let metrics = state.metrics.clone();
    let (live, stopping) = (state.live.clone(), Arc::clone(&state.stopping));
    // Subscriptions never finish by themselves: the connections carrying them are told to end,
    // so that the server can wait for the rest.
    let shutdown = async move {
        shutdown.await;
        stopping.send_replace(true);
        live.shut_down();
    };
    serve_connections(
        listener,
        router(state),
        limits,
        max_connections,
        metrics,
        shutdown,
    )
    .await
    .map_err(StartupError::Serve)?;
    tracing::info!("stopped");
    Ok(())
}

/// The process's limit on open files (unlimited: `u64::MAX`).
fn open_files_limit() -> u64 {
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// Raises the soft limit on open files to the hard one, as far as the system allows: the
/// default connection cap follows from it.
fn raise_open_files_limit() {
    let limit = getrlimit(Resource::Nofile);
    if limit.current == limit.maximum {
        return;
    }
    let raised = Rlimit {
        current: limit.maximum,
        maximum: limit.maximum,
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => tracing::debug!(limit = ?limit.maximum, "open files limit raised"),
        Err(error) => tracing::warn!(%error, "cannot raise the open files limit"),
    }
}

/// Most connections the database pool of `db` opens.
fn pool_size(db: &DatabaseConnection) -> u32 {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => db
            .get_postgres_connection_pool()
            .options()
            .get_max_connections(),
        DatabaseBackend::Sqlite => db
            .get_sqlite_connection_pool()
            .options()
            .get_max_connections(),
        _ => 0,
    }
}

/// Completes on Ctrl-C or, on Unix, SIGTERM (what container runtimes send).
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}
