//! The load reads the listings a second time: a file rewritten after the scan must stop the run
//! instead of loading text that was never validated.

use std::path::PathBuf;

use ingest::ReleaseSource;
use ingest::catalogue::Catalogue;
use ingest::tag::Tagger;

const LISTING: &str =
    "News\n\n  1. A first title\n\n    3 May 2021\n\n  2. A second title\n\n    4 May 2021\n";

#[test]
fn a_listing_changed_after_the_scan_stops_the_load() {
    let catalogue = Catalogue::load(&PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../seeds/catalogue.toml"
    )))
    .unwrap();
    let tagger = Tagger::new(&catalogue).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("listing.txt");
    std::fs::write(&path, LISTING).unwrap();

    let scanned = ingest::prepare::scan(std::slice::from_ref(&path), &catalogue, &tagger).unwrap();
    assert_eq!(scanned.release_count(), 2);
    let unchanged: Vec<_> = scanned.releases().collect::<Result<_, _>>().unwrap();
    assert_eq!(
        unchanged.len(),
        2,
        "an untouched file yields what the scan saw"
    );

    std::fs::write(&path, LISTING.replace("4 May", "31 February")).unwrap();
    let error = scanned
        .releases()
        .find_map(Result::err)
        .expect("a rewritten file was loaded");
    let message = error.to_string();
    assert!(
        message.contains("listing.txt") && message.contains("changed"),
        "names the file and says it changed: {message}"
    );
}
