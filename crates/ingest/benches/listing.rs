//! Throughput (MB/s) of the listing parser alone and of parsing plus tagging every release, as
//! `prepare` does, over one generated ~100 MB listing (seed 42) held in memory.
//! Run with `cargo bench -p ingest --bench listing`.

use std::fs;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use ingest::catalogue::Catalogue;
use ingest::generate::{GenerateOptions, generate};
use ingest::parse::{ParsedRelease, parse_listing};
use ingest::tag::{ReleaseTags, Tagger};

/// About 349 bytes a release: one file of 101,172,707 bytes (~100 MB).
const RELEASES: u64 = 290_000;
const SEED: u64 = 42;
const CATALOGUE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../seeds/catalogue.toml");

/// The generated listing: where it was written (for the publisher lookup and error messages)
/// and its bytes.
struct Listing {
    path: PathBuf,
    bytes: Vec<u8>,
}

/// Generates the corpus as a single file in a temporary folder and reads it back.
fn listing() -> Listing {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("cannot create a temp dir: {e}"));
    let options = GenerateOptions {
        releases: RELEASES,
        seed: SEED,
        out: dir.path().to_path_buf(),
        releases_per_file: RELEASES,
    };
    let report = generate(&options).unwrap_or_else(|e| panic!("cannot generate the corpus: {e}"));
    let [path] = report.files.as_slice() else {
        panic!("expected one listing file, got {}", report.files.len());
    };
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    // The file name is all the publisher lookup uses; the folder goes away with `dir`.
    let path = PathBuf::from(path.file_name().unwrap_or_default());
    eprintln!(
        "listing: {RELEASES} releases, {} bytes ({:.1} MB), generated in {:.1?}",
        bytes.len(),
        bytes.len() as f64 / 1e6,
        started.elapsed()
    );
    Listing { path, bytes }
}

fn parse(path: &Path, bytes: &[u8]) -> Vec<ParsedRelease> {
    parse_listing(path, bytes).unwrap_or_else(|e| panic!("the generated listing must parse: {e}"))
}

fn parse_and_tag(
    path: &Path,
    bytes: &[u8],
    catalogue: &Catalogue,
    tagger: &Tagger,
) -> Vec<(ParsedRelease, ReleaseTags)> {
    let publisher = catalogue.publisher_of(path);
    parse(path, bytes)
        .into_iter()
        .map(|release| {
            let tags = tagger.tag_release(&release.title, release.summary.as_deref(), publisher);
            (release, tags)
        })
        .collect()
}

fn bench_listing(c: &mut Criterion) {
    let catalogue = Catalogue::load(Path::new(CATALOGUE))
        .unwrap_or_else(|e| panic!("cannot load {CATALOGUE}: {e}"));
    let tagger =
        Tagger::new(&catalogue).unwrap_or_else(|e| panic!("cannot compile the catalogue: {e}"));
    let Listing { path, bytes } = listing();
    let parsed = parse(&path, &bytes).len();
    assert_eq!(parsed as u64, RELEASES, "every generated release parses");

    let mut group = c.benchmark_group("listing");
    group
        .throughput(Throughput::BytesDecimal(bytes.len() as u64))
        .sample_size(10)
        // An iteration takes a large fraction of a second: the same number of iterations per
        // sample keeps each benchmark to about warm-up + measurement time.
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(3))
        .measurement_time(Duration::from_secs(20));
    group.bench_function("parse_listing", |b| {
        b.iter(|| parse(black_box(&path), black_box(&bytes)));
    });
    group.bench_function("parse_and_tag", |b| {
        b.iter(|| parse_and_tag(black_box(&path), black_box(&bytes), &catalogue, &tagger));
    });
    group.finish();
}

criterion_group!(benches, bench_listing);
criterion_main!(benches);
