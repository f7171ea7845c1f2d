//! What one request may ask of the server: size, shape and cost limits, the deadline, and the
//! schema features a production deployment may switch off; what one client may hold open:
//! connections, time to send a header, header size; and what live subscriptions may hold:
//! subscriptions per connection, subscription connections, events waiting for a slow client,
//! time to initialise a WebSocket, the keep-alive. Each is a flag with an environment
//! variable; the defaults fit this schema (see docs/limits.md).

use std::time::Duration;

use clap::Args;

/// Limits enforced on every GraphQL request, before it executes.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct Limits {
    /// Largest request body in bytes; a larger one is refused with 413.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 1_048_576)]
    pub max_body_bytes: usize,

    /// Largest GraphQL document (the `query` text) in bytes.
    #[arg(long, env = "MAX_DOCUMENT_BYTES", default_value_t = 16_384)]
    pub max_document_bytes: usize,

    /// Most operations in one batched request (a JSON array of requests).
    #[arg(long, env = "MAX_BATCH", default_value_t = 10)]
    pub max_batch: usize,

    /// Deepest field nesting a query may have. The deepest useful query of this schema,
    /// releases → edges → node → related → nodes → programmes → name, is 7 deep.
    #[arg(long, env = "MAX_DEPTH", default_value_t = 10)]
    pub max_depth: usize,

    /// Most a query may cost: each field counts 1, and everything under a list of releases
    /// counts once per release its page can hold (`first`/`last`, 20 by default).
    #[arg(long, env = "MAX_COST", default_value_t = 10_000)]
    pub max_cost: usize,

    /// Most aliased fields in one document.
    #[arg(long, env = "MAX_ALIASES", default_value_t = 15)]
    pub max_aliases: usize,

    /// Most directives on one field or fragment.
    #[arg(long, env = "MAX_DIRECTIVES", default_value_t = 50)]
    pub max_directives: usize,

    /// Deadline for one request in milliseconds, also set as PostgreSQL's `statement_timeout`.
    #[arg(long = "request-timeout-ms", env = "REQUEST_TIMEOUT_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout_ms: u64,

    /// Answer introspection queries (`__schema`, `__type`). The playground needs them.
    #[arg(long, env = "INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub introspection: bool,

    /// Suggest field and argument names ("did you mean …?") in validation errors.
    #[arg(long, env = "FIELD_SUGGESTIONS", default_value_t = true, action = clap::ArgAction::Set)]
    pub field_suggestions: bool,
}

/// Limits on connections, enforced below HTTP handling: what a slow or hostile client can hold
/// open. A connection is refused or closed before any request of it runs.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct ConnectionLimits {
    /// Milliseconds a client has to send a whole request header, however slowly it trickles
    /// bytes; then the connection is closed. The same time closes a kept-alive connection on
    /// which no new request arrives.
    #[arg(long = "header-timeout-ms", env = "HEADER_TIMEOUT_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_ms: u64,

    /// Most connections open at once; past it a new connection gets a bare 503 and is closed,
    /// and those being served are unaffected. Default: the process's open-files limit less
    /// room for the database pool and 64 more files (the cache listener, logs, …; docs/limits.md).
    #[arg(long, env = "MAX_CONNECTIONS", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: Option<u64>,

    /// Largest request header in bytes (request line and header lines together); a larger one
    /// is refused with 431. At least 8192.
    #[arg(long, env = "MAX_HEADER_BYTES", default_value_t = 16_384, value_parser = clap::value_parser!(u32).range(8192..))]
    pub max_header_bytes: u32,

    /// Most header lines in one request; more are refused with 431.
    #[arg(long, env = "MAX_HEADER_COUNT", default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_header_count: u16,
}

/// Limits on live subscriptions (GraphQL over WebSocket and over Server-Sent Events). Their
/// queries are checked like any other: the depth and cost limits of [`Limits`] apply.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct SubscriptionLimits {
    /// Most subscriptions one WebSocket connection may carry at once; one more is answered with
    /// TOO_MANY_SUBSCRIPTIONS, the others go on. (An SSE connection carries one.)
    #[arg(long, env = "MAX_SUBSCRIPTIONS_PER_CONNECTION", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_subscriptions_per_connection: u32,

    /// Most WebSocket and SSE connections carrying subscriptions at once; one more is refused
    /// with TOO_MANY_CONNECTIONS (WebSocket close 1013, SSE 503). Each also counts against
    /// `--max-connections`.
    #[arg(long, env = "MAX_SUBSCRIPTION_CONNECTIONS", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_subscription_connections: u32,

    /// Most events that may wait for one subscription, not yet taken by its client, when the
    /// next commit's events are handed out; past it the client is cut off with SLOW_CONSUMER
    /// (WebSocket close 1008, SSE an error event) and may resume with `after`.
    #[arg(long, env = "MAX_QUEUED_EVENTS", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_queued_events: u32,

    /// Milliseconds a WebSocket client has to send `connection_init` after connecting; then the
    /// connection is closed with 4408.
    #[arg(long = "connection-init-timeout-ms", env = "CONNECTION_INIT_TIMEOUT_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub connection_init_timeout_ms: u64,

    /// Milliseconds between keep-alives: a WebSocket ping (a client that has sent nothing, not
    /// even the pong, since the previous one is disconnected) and an SSE comment line.
    #[arg(long = "keepalive-interval-ms", env = "KEEPALIVE_INTERVAL_MS", default_value_t = 15_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub keepalive_interval_ms: u64,
}

impl SubscriptionLimits {
    pub fn connection_init_timeout(&self) -> Duration {
        Duration::from_millis(self.connection_init_timeout_ms)
    }

    pub fn keepalive_interval(&self) -> Duration {
        Duration::from_millis(self.keepalive_interval_ms)
    }
}

impl Default for SubscriptionLimits {
    fn default() -> Self {
        SubscriptionLimits {
            max_subscriptions_per_connection: 100,
            max_subscription_connections: 10_000,
            max_queued_events: 10_000,
            connection_init_timeout_ms: 10_000,
            keepalive_interval_ms: 15_000,
        }
    }
}

/// Open files the server keeps for other things than client connections: the database pool
/// (counted apart), the response cache's listener, the log, the listening socket, and room for
/// the odd file (the embedded SQLite database and its journal among them).
pub const RESERVED_FILES: u64 = 64;

impl ConnectionLimits {
    pub fn header_timeout(&self) -> Duration {
        Duration::from_millis(self.header_timeout_ms)
    }

    /// The connection cap: the flag, or what `open_files` leaves once `database_connections`
    /// and [`RESERVED_FILES`] are set aside (at least 1).
    pub fn max_connections_for(&self, open_files: u64, database_connections: u32) -> u64 {
        self.max_connections.unwrap_or_else(|| {
            open_files
                .saturating_sub(u64::from(database_connections))
                .saturating_sub(RESERVED_FILES)
                .max(1)
        })
    }
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_timeout_ms: 10_000,
            max_connections: None,
            max_header_bytes: 16_384,
            max_header_count: 64,
        }
    }
}

impl Limits {
    /// The per-request deadline.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 1_048_576,
            max_document_bytes: 16_384,
            max_batch: 10,
            max_depth: 10,
            max_cost: 10_000,
            max_aliases: 15,
            max_directives: 50,
            request_timeout_ms: 10_000,
            introspection: true,
            field_suggestions: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{ConnectionLimits, Limits, RESERVED_FILES, SubscriptionLimits};

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        limits: Limits,
        #[command(flatten)]
        connections: ConnectionLimits,
        #[command(flatten)]
        subscriptions: SubscriptionLimits,
    }

    #[test]
    fn flag_defaults_are_the_documented_defaults() {
        let flags = Flags::try_parse_from(["api"]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(flags.limits, Limits::default());
        assert_eq!(flags.connections, ConnectionLimits::default());
        assert_eq!(flags.subscriptions, SubscriptionLimits::default());
    }

    #[test]
    fn subscription_limits_cannot_be_zero() {
        for flag in [
            "--max-subscriptions-per-connection",
            "--max-subscription-connections",
            "--max-queued-events",
            "--connection-init-timeout-ms",
            "--keepalive-interval-ms",
        ] {
            assert!(
                Flags::try_parse_from(["api", flag, "0"]).is_err(),
                "{flag} 0"
            );
        }
    }

    #[test]
    fn the_connection_cap_leaves_room_for_the_database_and_the_rest() {
        let limits = ConnectionLimits::default();
        assert_eq!(
            limits.max_connections_for(20_000, 16),
            20_000 - 16 - RESERVED_FILES
        );
        assert_eq!(limits.max_connections_for(50, 16), 1, "never zero");
        let set = ConnectionLimits {
            max_connections: Some(300),
            ..ConnectionLimits::default()
        };
        assert_eq!(set.max_connections_for(20_000, 16), 300);
        assert!(Flags::try_parse_from(["api", "--max-header-bytes", "4096"]).is_err());
        assert!(Flags::try_parse_from(["api", "--header-timeout-ms", "0"]).is_err());
    }

    #[test]
    fn production_can_switch_off_introspection_and_suggestions() {
        let flags = Flags::try_parse_from([
            "api",
            "--introspection",
            "false",
            "--field-suggestions",
            "false",
            "--max-depth",
            "6",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(!flags.limits.introspection);
        assert!(!flags.limits.field_suggestions);
        assert_eq!(flags.limits.max_depth, 6);
    }

    #[test]
    fn a_zero_deadline_is_refused() {
        assert!(Flags::try_parse_from(["api", "--request-timeout-ms", "0"]).is_err());
    }
}
