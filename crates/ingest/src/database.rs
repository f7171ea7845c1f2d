//! Opening the archive database: one place that knows the URL default and the pool settings
//! for both backends (PostgreSQL in production, SQLite for the embedded default).

use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// The embedded default: a SQLite file in the working directory, created on first use.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://archive.sqlite?mode=rwc";

/// Connects to `url` (`postgres://…` or `sqlite://…`) with bounded connect and acquire waits,
/// so an unreachable database is reported in seconds rather than hanging.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        // Concurrent writers wait for each other instead of failing at once.
        options.map_sqlx_sqlite_opts(|opts| opts.busy_timeout(Duration::from_secs(30)));
    }
    Database::connect(options).await
}

/// `url` with any password and user name removed, for logs and error messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://…@{}", &url[..scheme_end], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn credentials_never_reach_logs() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/archive"),
            "postgres://…@db:5432/archive"
        );
        assert_eq!(
            redact_url("sqlite://archive.sqlite"),
            "sqlite://archive.sqlite"
        );
    }
}
