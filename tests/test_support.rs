//! The support library's own helpers.

use integration_tests::with_database;

#[test]
fn test_database_urls_keep_server_and_options() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
        "postgres://postgres@127.0.0.1:5432/t1"
    );
    assert_eq!(
        with_database("postgres://u:p@db/x?sslmode=disable", "t2"),
        "postgres://u:p@db/t2?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://db:5432", "t3"),
        "postgres://db:5432/t3"
    );
}
