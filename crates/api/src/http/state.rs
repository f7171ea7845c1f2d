//! What every request handler shares, built once at startup: the database pool and the store
//! over it, the schema, the request and subscription limits, the metrics, the allowed origins,
//! the response cache and the live updates.

use std::fmt;
use std::sync::Arc;

use axum::http::HeaderValue;
use sea_orm::{DatabaseBackend, DatabaseConnection};
use tokio::sync::{Semaphore, watch};

use crate::error::StartupError;

use crate::http::response_cache::ResponseCache;
use crate::live::{LiveSettings, LiveUpdates, Unavailable};
use crate::ops::archive_changes::ArchiveChanges;
use crate::ops::limits::{Limits, SubscriptionLimits};
use crate::ops::metrics::Metrics;
use crate::ops::read_routing::ReadRouting;
use crate::ops::search_sync::SearchFreshness;
use crate::schema::direct::Plans;
use crate::schema::{ArchiveSchema, build_schema};
use crate::site::sitemap::Sitemap;
use crate::store::Store;
use crate::store::search::SearchEngine;

/// Shared by all handlers; cloning is cheap (every part is reference-counted).
#[derive(Clone)]
pub struct AppState {
    /// The pool, for the probes and the pool gauges of `/metrics`.
    pub db: DatabaseConnection,
    /// The primary's store: what subscriptions and the schema's default read through.
    pub store: Store,
    /// Which database each request reads (the replicas in rotation, else the primary).
    pub reads: ReadRouting,
    pub schema: ArchiveSchema,
    pub limits: Arc<Limits>,
    /// What `/metrics` reports; one registry per app, so servers in one process never mix counts.
    pub metrics: Metrics,
    /// Origins allowed to call the API from a browser; empty: same-origin only.
    pub cors_origins: Arc<[HeaderValue]>,
    /// The plans of the query documents seen (`crate::schema::direct`).
    pub plans: Plans,
    /// Answers kept until the archive changes; `None`: every request runs.
    pub response_cache: Option<ResponseCache>,
    /// The base of absolute links (`--public-url`, without a trailing slash); `None`: taken
    /// from each request's `Host`.
    pub public_url: Option<Arc<str>>,
    /// The subscriptions' hub, also in the schema's data.
    pub live: LiveUpdates,
    pub subscription_limits: Arc<SubscriptionLimits>,
    /// One permit per connection carrying subscriptions (WebSocket or SSE).
    pub subscription_connections: Arc<Semaphore>,
    /// Set when the server stops: WebSocket and SSE connections end.
    pub stopping: Arc<watch::Sender<bool>>,
    /// How many releases each page of the sitemap lists.
    pub sitemap: Sitemap,
    /// The search index every read searches with; `None`: searches run in SQL.
    pub search: Option<SearchEngine>,
    /// Whether the search index shows every change heard of (answers are only cached then).
    pub search_freshness: SearchFreshness,
}

impl AppState {
    /// The app over `db` with the default limits.
    pub fn new(db: DatabaseConnection) -> AppState {
        AppState::with_limits(db, Limits::default())
    }

    /// The app over `db` within `limits`. It does not follow the archive's changes: no answer
    /// is cached and subscriptions are refused until `following` says what to follow.
    pub fn with_limits(db: DatabaseConnection, limits: Limits) -> AppState {
        let live = LiveUpdates::off(match db.get_database_backend() {
            DatabaseBackend::Sqlite => Unavailable::Sqlite,
            _ => Unavailable::NotFollowing,
        });
        let subscription_limits = SubscriptionLimits::default();
        let limits = Arc::new(limits);
        AppState {
            schema: build_schema(Store::new(db.clone()), live.clone(), &limits),
            plans: Plans::new(Arc::clone(&limits)),
            store: Store::new(db.clone()),
            reads: ReadRouting::primary_only(Store::new(db.clone())),
            db,
            limits,
            metrics: Metrics::new(),
            cors_origins: Arc::from([]),
            response_cache: None,
            public_url: None,
            live,
            subscription_connections: Arc::new(Semaphore::new(
                subscription_limits.max_subscription_connections as usize,
            )),
            subscription_limits: Arc::new(subscription_limits),
            stopping: Arc::new(watch::channel(false).0),
            sitemap: Sitemap::default(),
            search: None,
            search_freshness: SearchFreshness::default(),
        }
    }

    /// Reads as `settings` require (behind a transaction pooler, each statement in a
    /// transaction of its own). Before `following` and `with_read_routing`, which use the store.
    pub fn with_pool_settings(mut self, settings: &database::PoolSettings) -> AppState {
        self.store = Store::over(self.db.clone(), settings);
        self.reads =
            ReadRouting::primary_only(self.store.clone()).with_search_engine(self.search.clone());
        self.schema = build_schema(self.store.clone(), self.live.clone(), &self.limits);
        self
    }

    /// Subscriptions within `limits` (before `following`, which reads them).
    pub fn with_subscription_limits(mut self, limits: SubscriptionLimits) -> AppState {
        self.subscription_connections =
            Arc::new(Semaphore::new(limits.max_subscription_connections as usize));
        self.subscription_limits = Arc::new(limits);
        self
    }

    /// Delivers live updates of the changes `changes` hears of (the process's one listener,
    /// which the response cache may share).
    pub fn following(mut self, changes: &ArchiveChanges) -> AppState {
        let settings = LiveSettings {
            max_queued_events: self.subscription_limits.max_queued_events as usize,
        };
        self.live = LiveUpdates::follow(self.store.clone(), changes, settings);
        self.schema = build_schema(self.store.clone(), self.live.clone(), &self.limits);
        self
    }

    /// Reads as `reads` routes them (see `ReadRouting::with_replicas`).
    pub fn with_read_routing(mut self, reads: ReadRouting) -> AppState {
        self.reads = reads.with_search_engine(self.search.clone());
        self
    }

    /// Every read answers its searches from `engine`; `freshness` keeps the response cache
    /// from storing answers while the index lags behind a change it heard of (see
    /// `ops::search_sync::start`, which gives both).
    pub fn with_search_engine(
        mut self,
        engine: SearchEngine,
        freshness: SearchFreshness,
    ) -> AppState {
        self.reads = self.reads.with_search_engine(Some(engine.clone()));
        self.search = Some(engine);
        self.search_freshness = freshness;
        self
    }

    /// Keeps answers in `cache` (see `ResponseCache::new`).
    pub fn with_response_cache(mut self, cache: Option<ResponseCache>) -> AppState {
        self.response_cache = cache;
        self
    }

    /// Allows browsers on `origins` (`scheme://host[:port]`) to call the API.
    pub fn with_cors_origins(mut self, origins: &[String]) -> Result<AppState, StartupError> {
        let parsed = origins
            .iter()
            .map(|origin| {
                let origin = origin.trim().trim_end_matches('/');
                let well_formed = origin.split_once("://").is_some_and(|(scheme, host)| {
                    matches!(scheme, "http" | "https") && !host.is_empty() && !host.contains('/')
                });
                HeaderValue::from_str(origin)
                    .ok()
                    .filter(|_| well_formed)
                    .ok_or_else(|| StartupError::CorsOrigin(origin.to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.cors_origins = parsed.into();
        Ok(self)
    }

    /// Links in pages, feeds and the sitemap start with `url` (`scheme://host[:port][/path]`).
    pub fn with_public_url(mut self, url: Option<&str>) -> Result<AppState, StartupError> {
        self.public_url = match url {
            None => None,
            Some(url) => {
                let trimmed = url.trim().trim_end_matches('/');
                let well_formed = trimmed
                    .parse::<axum::http::Uri>()
                    .ok()
                    .filter(|uri| {
                        matches!(uri.scheme_str(), Some("http" | "https"))
                            && uri.authority().is_some()
                            && uri.query().is_none()
                    })
                    .is_some();
                if !well_formed {
                    return Err(StartupError::PublicUrl(url.to_owned()));
                }
                Some(Arc::from(trimmed))
            }
        };
        Ok(self)
    }
}

impl AppState {
    /// Sitemap pages of `size` releases instead of the protocol's 50,000 (clamped to 1..=50,000):
    /// for tests, to have several pages on a small archive.
    pub fn with_sitemap_page_size(mut self, size: u64) -> AppState {
        self.sitemap = Sitemap::with_page_size(size);
        self
    }
}

impl fmt::Debug for AppState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}
