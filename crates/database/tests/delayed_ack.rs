//! A statement larger than one TCP segment must not wait for the server's delayed ACK.
//!
//! Without `TCP_NODELAY`, Nagle's algorithm holds back the last piece of such a message until
//! the server acknowledges the pieces before it, and the server delays that ACK by about 40 ms:
//! every bulk statement of an ingest run then took 40 ms instead of a few, as with sqlx-core
//! 0.9.0, which did not set it. Connections opened by `database::connect` (ingest's and the
//! api's) must answer such statements at the speed of a round trip.
//!
//! Needs PostgreSQL: `TEST_DATABASE_URL`, else `postgres://postgres@127.0.0.1:5432/postgres`,
//! as a user who may create databases. A database of its own is created and dropped.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

/// Where PostgreSQL is looked for when `TEST_DATABASE_URL` is not set.
const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Rows per statement and bytes of text per row: about 60 kB of bound values, like one of
/// ingest's bulk inserts. On loopback such a statement stalled in nearly every round without
/// `TCP_NODELAY`; smaller ones (a few kB) leave in one piece and never wait.
const ROWS: usize = 256;
const ROW_BYTES: usize = 240;
/// Statements timed; the median is judged, so a scheduling hiccup does not fail the test.
const ROUNDS: usize = 21;
/// Such a statement takes a few milliseconds, even on a busy machine; one that waits for a
/// delayed ACK takes at least 40 more (Linux's shortest delay).
const STALL: Duration = Duration::from_millis(25);

#[tokio::test]
async fn bulk_statements_do_not_wait_for_a_delayed_ack() {
    let admin_url =
        std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.to_owned());
    let admin = database::connect(&admin_url).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL is not reachable at {} ({e}): start it (`pg_ctlcluster 15 main start`) \
             or point TEST_DATABASE_URL at a server where this user may create databases",
            database::redact_url(&admin_url)
        )
    });
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos());
    let name = format!("archive_delayed_ack_{}_{nanos}", std::process::id());
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap_or_else(|e| panic!("cannot create the database {name}: {e}"));

    let timings = time_bulk_inserts(&with_database(&admin_url, &name)).await;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .unwrap_or_else(|e| panic!("cannot drop the database {name}: {e}"));
    let mut timings = timings.unwrap_or_else(|e| panic!("bulk inserts into {name} failed: {e}"));

    timings.sort();
    let median = timings[timings.len() / 2];
    assert!(
        median < STALL,
        "an INSERT of {ROWS} rows ({} kB) took {median:?} (median of {ROUNDS}; all: {timings:?}): \
         statements that reach the server in several TCP segments wait for its delayed ACK, so \
         TCP_NODELAY is off on database connections",
        ROWS * ROW_BYTES / 1000
    );
}

/// Creates a table in the database at `url` and times `ROUNDS` inserts of `ROWS` rows each.
async fn time_bulk_inserts(url: &str) -> Result<Vec<Duration>, DbErr> {
    let db = database::connect(url).await?;
    db.execute_unprepared("CREATE TABLE bulk (round integer NOT NULL, body text NOT NULL)")
        .await?;
    let body = "x".repeat(ROW_BYTES);
    let mut timings = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new("bulk"))
            .columns([Alias::new("round"), Alias::new("body")]);
        for _ in 0..ROWS {
            insert
                .values([(round as i32).into(), body.as_str().into()])
                .map_err(|e| DbErr::Custom(e.to_string()))?;
        }
        let statement = db.get_database_backend().build(&insert);
        let started = Instant::now();
        db.execute_raw(statement).await?;
        timings.push(started.elapsed());
    }
    let stored = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT count(*) AS n FROM bulk",
        ))
        .await?
        .map(|row| row.try_get::<i64>("", "n"))
        .transpose()?;
    if stored != Some((ROUNDS * ROWS) as i64) {
        return Err(DbErr::Custom(format!(
            "expected {} rows stored, found {stored:?}",
            ROUNDS * ROWS
        )));
    }
    db.close().await?;
    Ok(timings)
}

/// `url` pointing at database `name` on the same server.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}
