//! GraphQL over WebSocket on `/graphql`: the `graphql-transport-ws` protocol (the `graphql-ws`
//! library's), spoken by async-graphql's protocol driver; this module adds what a public
//! server needs around it:
//!
//! - the origin check (browsers do not apply CORS to WebSockets): a page of another origin may
//!   connect only if it is allowed by `--cors-origin`;
//! - the cap on subscription connections (close 1013 with TOO_MANY_CONNECTIONS);
//! - a connection-init timeout (close 4408, as the protocol says), a ping every keep-alive
//!   interval (a client silent since the previous one is disconnected);
//! - the document size limit, per operation (an `error` message with DOCUMENT_TOO_LARGE);
//! - the allowance of subscriptions per connection and the slow-client cut-off (close 1008
//!   with SLOW_CONSUMER), both decided by `schema::subscription` and `live`;
//! - the end of the connection when the server stops (close 1001).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_graphql::Data;
use async_graphql::http::{
    ClientMessage, WebSocket as GraphqlWebSocket, WebSocketProtocols as Protocols, WsMessage,
};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, mpsc};

use crate::error::ErrorCode;
use crate::http::server::ClientConnection;
use crate::http::state::AppState;
use crate::live::{Cutoff, LiveError};
use crate::schema::loaders::subscription_data_loader;
use crate::schema::subscription::SubscriptionAllowance;

/// The only WebSocket subprotocol spoken.
pub const SUBPROTOCOL: &str = "graphql-transport-ws";

/// How long a closing message may take to reach a client before the socket is dropped: a
/// client cut off for reading too slowly still learns why if it resumes within this time.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(30);

/// WebSocket close codes this server sends.
mod close {
    /// The server is stopping.
    pub const GOING_AWAY: u16 = 1001;
    /// The client broke the protocol: no subprotocol, or not `connection_init` in time.
    pub const POLICY: u16 = 1008;
    /// Over the cap on subscription connections: come back later.
    pub const TRY_AGAIN_LATER: u16 = 1013;
    /// `graphql-transport-ws`: the client did not offer the subprotocol.
    pub const SUBPROTOCOL_NOT_ACCEPTABLE: u16 = 4406;
    /// `graphql-transport-ws`: no `connection_init` in time.
    pub const INIT_TIMEOUT: u16 = 4408;
}

/// Whether `headers` ask for a WebSocket.
pub fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"))
}

/// Whether a browser page of the request's `Origin` may open a subscription: no origin (not a
/// browser), the server's own, or one of `--cors-origin`.
pub fn origin_allowed(headers: &HeaderMap, allowed: &[HeaderValue]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    if allowed.contains(origin) {
        return true;
    }
    let own_host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|origin| origin.split_once("://"))
        .map(|(_, host)| host);
    own_host.is_some() && own_host == origin_host
}

/// The refusal of a page whose origin may not subscribe.
pub fn forbidden_origin() -> Response {
    let body = json!({ "errors": [{
        "message": "pages of this origin may not subscribe: the server allows its own origin and those given with --cors-origin",
        "extensions": { "code": ErrorCode::ForbiddenOrigin.as_str() },
    }]});
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

/// Whether the client offers subprotocols, none of them ours.
fn offers_only_other_subprotocols(headers: &HeaderMap) -> bool {
    let mut offered = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|protocol| !protocol.is_empty())
        .peekable();
    offered.peek().is_some() && !offered.any(|protocol| protocol == SUBPROTOCOL)
}

/// The read buffer and the write batch of each WebSocket.
const SOCKET_BUFFER_BYTES: usize = 4 * 1024;

/// Answers a WebSocket upgrade on `/graphql`.
pub fn upgrade(
    state: AppState,
    headers: &HeaderMap,
    upgrade: WebSocketUpgrade,
    client: Option<Arc<ClientConnection>>,
) -> Response {
    if !origin_allowed(headers, &state.cors_origins) {
        return forbidden_origin();
    }
    if offers_only_other_subprotocols(headers) {
        // A client of another protocol (subscriptions-transport-ws offers `graphql-ws`) would
        // be accepted and then misunderstood: refused before the upgrade, it can say why.
        return (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!(
                "unsupported WebSocket subprotocol: subscriptions speak {SUBPROTOCOL} (the graphql-ws npm package's protocol); the older subscriptions-transport-ws (subprotocol graphql-ws) is not supported"
            ),
        )
            .into_response();
    }
    let permit = Arc::clone(&state.subscription_connections)
        .try_acquire_owned()
        .ok();
    upgrade
        .protocols([SUBPROTOCOL])
        .max_message_size(state.limits.max_body_bytes)
        // tungstenite's defaults (128 KiB each way) would cost 256 KiB a connection held for
        // hours: clients send a few small messages, and every event is flushed as it is sent.
        // The read buffer still grows for a larger message, up to `max_message_size`.
        .read_buffer_size(SOCKET_BUFFER_BYTES)
        .write_buffer_size(SOCKET_BUFFER_BYTES)
        .on_upgrade(move |socket| async move {
            let offered = socket.protocol().is_some();
            // Held as long as the socket: the connection's place under the connection cap.
            let _client = client;
            match (offered, permit) {
                (false, _) => {
                    let reason = format!("Subprotocol not acceptable: speak {SUBPROTOCOL}");
                    close_now(socket, close::SUBPROTOCOL_NOT_ACCEPTABLE, &reason).await;
                }
                (true, None) => {
                    let limit = state.subscription_limits.max_subscription_connections;
                    let reason = format!(
                        "TOO_MANY_CONNECTIONS: the server holds {limit} subscription connections; retry later"
                    );
                    close_now(socket, close::TRY_AGAIN_LATER, &reason).await;
                }
                (true, Some(permit)) => serve(socket, state, permit).await,
            }
        })
}

async fn close_now(mut socket: WebSocket, code: u16, reason: &str) {
    let frame = Message::Close(Some(CloseFrame {
        code,
        reason: truncated(reason).into(),
    }));
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, socket.send(frame)).await;
}

/// A close reason fits in 123 bytes.
fn truncated(reason: &str) -> String {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_owned()
}

/// Serves one `graphql-transport-ws` connection until either side closes it.
async fn serve(socket: WebSocket, state: AppState, _permit: OwnedSemaphorePermit) {
    let limits = Arc::clone(&state.subscription_limits);
    let (mut sink, source) = socket.split();
    let cutoff = Cutoff::default();
    let mut data = Data::default();
    data.insert(SubscriptionAllowance::new(
        limits.max_subscriptions_per_connection as usize,
    ));
    data.insert(cutoff.clone());
    data.insert(subscription_data_loader(state.store.clone()));

    // Whatever the client sends counts as a sign of life, pongs included.
    let heard = Arc::new(AtomicBool::new(true));
    // Answers this module gives itself, in order with the driver's.
    let (replies, mut own_replies) = mpsc::unbounded_channel::<String>();
    let max_document = state.limits.max_document_bytes;
    let input = {
        let heard = Arc::clone(&heard);
        source
            .take_while(|message| futures::future::ready(!matches!(message, Err(_) | Ok(Message::Close(_)))))
            .filter_map(move |message| {
                heard.store(true, Ordering::Release);
                let bytes = match message {
                    Ok(Message::Text(text)) => Some(axum::body::Bytes::from(text)),
                    Ok(Message::Binary(bytes)) => Some(bytes),
                    _ => None,
                };
                let message = bytes.map(|bytes| ClientMessage::from_bytes(&bytes));
                futures::future::ready(match message {
                    Some(Ok(ClientMessage::Start { id, payload })) if payload.query.len() > max_document => {
                        let refusal = json!({ "type": "error", "id": id, "payload": [{
                            "message": format!("the query is {} bytes long: send at most {max_document}, e.g. by splitting it, or by using fragments instead of repeated fields", payload.query.len()),
                            "extensions": { "code": ErrorCode::DocumentTooLarge.as_str() },
                        }]});
                        let _ = replies.send(refusal.to_string());
                        None
                    }
                    other => other,
                })
            })
    };
    let (initialised, mut init_heard) = tokio::sync::oneshot::channel::<()>();
    let mut driver =
        GraphqlWebSocket::from_message_stream(state.schema.clone(), input, Protocols::GraphQLWS)
            .connection_data(data)
            .on_connection_init(move |_payload| async move {
                let _ = initialised.send(());
                Ok(Data::default())
            });

    let init_deadline = tokio::time::sleep(limits.connection_init_timeout());
    tokio::pin!(init_deadline);
    let mut initialised = false;
    let interval = limits.keepalive_interval();
    let mut keepalive = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    let mut stopping = state.stopping.subscribe();

    let closing: (u16, String) = loop {
        let outgoing = tokio::select! {
            message = driver.next() => match message {
                Some(WsMessage::Text(text)) => Message::Text(text.into()),
                Some(WsMessage::Close(code, reason)) => break (code, reason),
                None => return,
            },
            Some(reply) = own_replies.recv() => Message::Text(reply.into()),
            _ = &mut init_heard, if !initialised => {
                initialised = true;
                continue;
            }
            () = &mut init_deadline, if !initialised => {
                break (close::INIT_TIMEOUT, "Connection initialisation timeout".to_owned());
            }
            _ = keepalive.tick() => {
                if !heard.swap(false, Ordering::AcqRel) {
                    tracing::debug!("WebSocket client silent for a whole keep-alive interval: disconnected");
                    return;
                }
                Message::Ping(axum::body::Bytes::new())
            }
            reason = cutoff.triggered() => break cut_off(&reason),
            _ = stopping.wait_for(|stopping| *stopping) => {
                break (close::GOING_AWAY, "the server is stopping: reconnect, with `after` to resume".to_owned());
            }
        };
        // A client that stops reading blocks this send; the hub then cuts it off.
        tokio::select! {
            sent = sink.send(outgoing) => if sent.is_err() { return },
            reason = cutoff.triggered() => break cut_off(&reason),
        }
    };
    let (code, reason) = closing;
    let frame = Message::Close(Some(CloseFrame {
        code,
        reason: truncated(&reason).into(),
    }));
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, sink.send(frame)).await;
}

/// The close frame of a client cut off by the hub (a reason holds at most 123 bytes).
fn cut_off(reason: &LiveError) -> (u16, String) {
    let reason = match reason {
        LiveError::SlowConsumer { limit } => format!(
            "{}: more than {limit} events waited for this client; resume with `after`",
            ErrorCode::SlowConsumer
        ),
        other => format!("{}: {other}", ErrorCode::Internal),
    };
    (close::POLICY, reason)
}
