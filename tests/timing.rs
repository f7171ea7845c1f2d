//! The tests that time the server or measure its memory: the hostile battery and the
//! connection-level abuse. A binary of their own, whose tests take turns (`exclusive`), so that
//! no other test of the suite shares their process, their threads or their timings.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "in tests a failed expectation is a failure, reported with its message"
)]

use std::sync::LazyLock;

use tokio::sync::{Mutex, MutexGuard};

mod connections;
mod hostile;

/// Held for the whole of a timing test: one at a time.
async fn exclusive() -> MutexGuard<'static, ()> {
    static TURN: LazyLock<Mutex<()>> = LazyLock::new(|| Mutex::new(()));
    TURN.lock().await
}
