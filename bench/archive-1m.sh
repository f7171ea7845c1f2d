#!/usr/bin/env bash
# Builds (once) a PostgreSQL archive of generated releases for benchmarks and prints its URL.
#   bench/archive-1m.sh [RELEASES=1000000]
# Uses the server of $ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres) and a
# database named archive_bench_<RELEASES>; the corpus is generated with seed 42 into
# /tmp/archive-bench/<RELEASES>. Re-running reuses what exists (delete the database to redo it).
set -euo pipefail
cd "$(dirname "$0")/.."

releases=${1:-1000000}
admin_url=${ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
database=archive_bench_${releases}
server_url=${admin_url%/*}
url=$server_url/$database
corpus=/tmp/archive-bench/$releases

cargo build --release -q -p ingest -p api

if ! psql "$admin_url" -tAc "SELECT 1 FROM pg_database WHERE datname = '$database'" | grep -q 1; then
    if [ ! -d "$corpus" ]; then
        ./target/release/ingest generate --releases "$releases" --seed 42 --out "$corpus" >&2
    fi
    psql "$admin_url" -qc "CREATE DATABASE $database"
    started=$SECONDS
    ./target/release/ingest --migrate --database-url "$url" "$corpus" >&2
    echo "ingest of $releases releases: $((SECONDS - started)) s" >&2
    psql "$url" -qc "VACUUM ANALYZE"
fi
echo "$url"
