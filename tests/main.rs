//! The end-to-end tests: the real server over HTTP on real databases, ingest on PostgreSQL and
//! SQLite, the Node clients and a headless browser. One test binary, one module per subject
//! (`cargo test -p integration-tests --test integration facets::` runs one of them); their
//! shared fixtures are the `integration_tests` library in `support/`. The tests that time the
//! server (`timing.rs`) have a binary of their own.
//!
//! Prerequisites are checked where a test first needs them and fail with one line saying how to
//! install or start what is missing: PostgreSQL at `TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), Node.js 20+ and npm for `clients` (which
//! installs `clients/node_modules` itself), Chromium for the browser test, Python 3 with its
//! `venv` module for `syndication` and `deploy` (which install `clients/requirements.txt`
//! themselves).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "in tests a failed expectation is a failure, reported with its message"
)]

mod api;
mod clients;
mod deploy;
mod explorer;
mod facets;
mod faults;
mod http_edge;
mod ingest;
mod live;
mod observability;
mod pages;
mod plans;
mod pooler;
mod related;
mod replicas;
mod search;
mod search_index;
mod syndication;
mod test_support;
