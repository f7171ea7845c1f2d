//! Logging: `tracing` events to stderr, filtered by the configured log level, as text for people
//! or as JSON lines for log collectors. Set up once, at the start of `main`; the library itself
//! only emits events.

use std::io::IsTerminal;

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;

use crate::error::StartupError;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event (coloured on a terminal).
    #[default]
    Text,
    /// One JSON object per line, the event's fields at the top level.
    Json,
}

/// Installs the global subscriber. `filter` is a level or RUST_LOG-style directives.
pub fn init(filter: &str, format: LogFormat) -> Result<(), StartupError> {
    let env_filter = EnvFilter::try_new(filter).map_err(|error| StartupError::LogFilter {
        filter: filter.to_owned(),
        reason: error.to_string(),
    })?;
    // Colour codes only help a person at a terminal; log collectors get plain text.
    let ansi = std::io::stderr().is_terminal();
    subscriber(env_filter, format, std::io::stderr, ansi)
        .try_init()
        .map_err(|error| StartupError::Telemetry(error.to_string()))
}

/// The subscriber `init` installs, writing to `writer`.
fn subscriber<W>(
    filter: EnvFilter,
    format: LogFormat,
    writer: W,
    ansi: bool,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => Box::new(builder.with_ansi(ansi).finish()),
        LogFormat::Json => Box::new(
            builder
                .json()
                // Fields beside `timestamp`, `level` and `message` rather than nested, so that
                // collectors index `status` or `request_id` without a mapping.
                .flatten_event(true)
                // The enclosing spans (the request's, with its `request_id`) once, as a list;
                // the innermost span alone would repeat the list's last entry.
                .with_current_span(false)
                .with_span_list(true)
                .finish(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex, PoisonError};

    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::middleware::{from_fn_with_state, map_request};
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use serde_json::Value;
    use tower::ServiceExt;
    use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

    use super::*;
    use crate::http::request_log::{self, GraphqlOutcome};
    use crate::ops::metrics::Metrics;

    /// Everything the subscriber writes, shared with the test.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner))
                .into_owned()
        }
    }

    /// A GraphQL-like handler that logs from inside the request, as resolvers do.
    async fn graphql() -> Response {
        tracing::warn!("inside the request");
        let mut response = (StatusCode::OK, "{}").into_response();
        GraphqlOutcome::from_response(&async_graphql::Response::default(), Some("Releases"))
            .attach(&mut response);
        response
    }

    /// The request-log layers as `router()` stacks them, over a test handler.
    fn app() -> Router {
        Router::new()
            .route("/graphql", get(graphql))
            .route("/healthz", get(|| async { "ok" }))
            .layer(from_fn_with_state(Metrics::new(), request_log::log_request))
            .layer(PropagateRequestIdLayer::new(request_log::REQUEST_ID_HEADER))
            .layer(SetRequestIdLayer::new(
                request_log::REQUEST_ID_HEADER,
                MakeRequestUuid,
            ))
            .layer(map_request(request_log::drop_unusable_request_id))
    }

    #[tokio::test]
    async fn json_logs_are_one_object_per_line_with_the_request_fields() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = subscriber(
            EnvFilter::new("info"),
            LogFormat::Json,
            move || writer.clone(),
            false,
        );
        let request = Request::get("/graphql?query=%7Bx%7D")
            .header("x-request-id", "test-id-1")
            .body(Body::empty())
            .unwrap_or_else(|e| panic!("{e}"));
        let response = {
            // The test runtime is single-threaded, so the thread-local default covers the
            // whole request.
            let _guard = tracing::subscriber::set_default(subscriber);
            let probe = Request::get("/healthz")
                .body(Body::empty())
                .unwrap_or_else(|e| panic!("{e}"));
            // Probes log at DEBUG, below this filter.
            app().oneshot(probe).await.unwrap_or_else(|e| match e {});
            app().oneshot(request).await.unwrap_or_else(|e| match e {})
        };
        assert_eq!(response.status(), StatusCode::OK);

        let text = captured.text();
        let lines: Vec<Value> = text
            .lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("not one JSON object per line ({e}): {line}"))
            })
            .collect();
        assert_eq!(
            lines.len(),
            2,
            "one event inside the request, one request line: {text}"
        );

        let inside = &lines[0];
        assert_eq!(inside["message"], "inside the request");
        assert_eq!(inside["spans"][0]["request_id"], "test-id-1", "{inside}");

        let request_line = &lines[1];
        assert_eq!(request_line["level"], "INFO");
        assert_eq!(request_line["message"], "request");
        assert_eq!(request_line["method"], "GET");
        assert_eq!(request_line["path"], "/graphql", "no query string in logs");
        assert_eq!(request_line["status"], 200);
        assert_eq!(request_line["request_id"], "test-id-1");
        assert_eq!(request_line["operation"], "Releases");
        assert_eq!(request_line["outcome"], "ok");
        assert!(
            request_line["duration_ms"]
                .as_f64()
                .is_some_and(|ms| ms >= 0.0),
            "{request_line}"
        );
    }

    #[tokio::test]
    async fn text_logs_carry_the_request_id_on_events_inside_the_request() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = subscriber(
            EnvFilter::new("warn"),
            LogFormat::Text,
            move || writer.clone(),
            false,
        );
        let request = Request::get("/graphql")
            .header("x-request-id", "test-id-2")
            .body(Body::empty())
            .unwrap_or_else(|e| panic!("{e}"));
        {
            let _guard = tracing::subscriber::set_default(subscriber);
            app().oneshot(request).await.unwrap_or_else(|e| match e {});
        }
        let text = captured.text();
        // Under `warn` the INFO request line is filtered out, but the warning still says which
        // request it belongs to.
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains("request_id=test-id-2"), "{text}");
        assert!(text.contains("inside the request"), "{text}");
    }

    #[test]
    fn the_log_format_is_chosen_on_the_command_line() {
        use clap::Parser;
        let cli = crate::Cli::try_parse_from(["api", "--log-format", "json"])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cli.config.log_format, LogFormat::Json);
        assert!(crate::Cli::try_parse_from(["api", "--log-format", "xml"]).is_err());
    }

    #[test]
    fn an_invalid_filter_is_a_startup_error() {
        let error = init("api=notalevel", LogFormat::Text)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("invalid log level"), "{error}");
    }
}
