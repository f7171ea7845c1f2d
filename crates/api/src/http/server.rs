//! Accepting connections: HTTP/1.1 served by hyper, within the connection limits (`ops::limits::ConnectionLimits`) that keep slow or hostile clients from
//! exhausting the process:
//!
//! - a client must send its whole request header within the header timeout, however slowly it
//!   trickles bytes, and a kept-alive connection with no new request is closed after the same
//!   time (hyper's header read timer runs from the moment the connection waits for a header);
//! - a header over the size limit, or with more lines than the count limit, is answered 431;
//! - at most `max_connections` are open at once: past it a new connection is answered a bare
//!   503 and closed at once, so `accept` never runs out of descriptors and what is being served
//!   is unaffected.
//!
//! A connection upgraded to a WebSocket keeps its place under the cap as long as the socket is
//! open ([`ClientConnection`] travels with every request and the socket holds it), and a
//! connection can be cut off by what it serves (a subscriber too slow to read).
//!
//! On shutdown the listener closes, every connection finishes its request in flight, then the
//! server returns.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tower_http::add_extension::AddExtension;

use crate::ops::limits::ConnectionLimits;
use crate::ops::metrics::Metrics;

/// What a connection over the cap is told before it is closed: no request of it is read.
const OVER_CAPACITY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n\
    retry-after: 1\r\ncontent-length: 0\r\n\r\n";

/// After `accept` fails for want of descriptors (other files, not connections, used them up),
/// wait this long before trying again, and log it at most this often.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
const ACCEPT_ERROR_LOG_INTERVAL: Duration = Duration::from_secs(5);

/// One client connection: its place under the connection cap, given back when the last user
/// of the connection (hyper, or the WebSocket it was upgraded to) lets go; and a way to cut it
/// off. Every request finds it in its extensions.
#[derive(Debug)]
pub struct ClientConnection {
    _slot: OwnedSemaphorePermit,
    metrics: Metrics,
    abort: Notify,
}

impl ClientConnection {
    /// Closes the connection at once, whatever it is doing.
    pub fn abort(&self) {
        self.abort.notify_one();
    }
}

impl Drop for ClientConnection {
    fn drop(&mut self) {
        self.metrics.connection_closed();
    }
}

/// Serves `app` on `listener` within `limits`, at most `max_connections` at once, until
/// `shutdown` completes; then waits for the requests in flight.
pub async fn serve_connections(
    listener: TcpListener,
    app: Router,
    limits: &ConnectionLimits,
    max_connections: u64,
    metrics: Metrics,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let builder = connection_builder(limits);
    let permits = usize::try_from(max_connections)
        .unwrap_or(usize::MAX)
        .min(Semaphore::MAX_PERMITS);
    let slots = Arc::new(Semaphore::new(permits));
    // Connections are told to finish through `stopping`; each holds a clone of `open`, whose
    // receiver sees the end once the last of them has finished.
    let (stopping, _) = watch::channel(false);
    let (open, mut all_closed) = mpsc::channel::<()>(1);
    let mut last_accept_error: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(error) if is_per_connection(&error) => continue,
            Err(error) => {
                if last_accept_error.is_none_or(|at| at.elapsed() >= ACCEPT_ERROR_LOG_INTERVAL) {
                    tracing::error!(%error, "cannot accept connections; retrying");
                    last_accept_error = Some(Instant::now());
                }
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            metrics.connection_refused();
            refuse(stream);
            continue;
        };
        // Small responses go out at once instead of waiting for the client's delayed ACK.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY on a client connection");
        }
        metrics.connection_opened();
        let client = Arc::new(ClientConnection {
            _slot: slot,
            metrics: metrics.clone(),
            abort: Notify::new(),
        });
        let service = TowerToHyperService::new(AddExtension::new(app.clone(), Arc::clone(&client)));
        let connection = builder
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades();
        let (mut stopping, open) = (stopping.subscribe(), open.clone());
        tokio::spawn(async move {
            tokio::pin!(connection);
            let mut finishing = false;
            let ended = loop {
                tokio::select! {
                    ended = connection.as_mut() => break ended,
                    () = client.abort.notified() => break Ok(()),
                    _ = stopping.wait_for(|stopping| *stopping), if !finishing => {
                        finishing = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            };
            // A client that leaves, or is cut off by a timeout, ends its connection with an
            // error that only concerns that connection.
            if let Err(error) = ended {
                tracing::debug!(error = %error, "connection ended");
            }
            drop(client);
            drop(open);
        });
    }
    drop(listener);
    stopping.send_replace(true);
    drop(open);
    all_closed.recv().await;
    Ok(())
}

/// HTTP/1.1 with the header timeout and the header limits.
fn connection_builder(limits: &ConnectionLimits) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout())
        .max_header_size(limits.max_header_bytes as usize)
        .max_headers(usize::from(limits.max_header_count));
    builder
}

/// Tells a connection over the cap to come back later and closes it, without reading from it
/// or waiting for it: one non-blocking write, which a full socket buffer simply skips.
fn refuse(stream: TcpStream) {
    let _ = stream.try_write(OVER_CAPACITY);
}

/// Errors of one incoming connection (it was reset before it could be accepted), after which
/// the listener is fine.
fn is_per_connection(error: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        error.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    )
}
