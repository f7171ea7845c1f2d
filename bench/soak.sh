#!/usr/bin/env bash
# A long run of realistic traffic with an ingest every minute, or the same with faults injected,
# against the api on PostgreSQL; then a check that the archive holds exactly what it should.
#   bench/soak.sh [RELEASES=100000]                       30 minutes, nothing injected
#   FAULTS=1 MINUTES=7 bench/soak.sh [RELEASES=100000]     PostgreSQL restarted at 1:30, an ingest
#                                                          killed at 3:00, the cache listener
#                                                          terminated at 4:30
# Environment: MINUTES (30), RATE (60 requests/s), WORKERS (16), CACHE_MIB (64), SOAK_ROOT
# (/tmp/pressroom-soak: cluster, corpus, listings, results), SOAK_PGPORT (55452), SOAK_API_PORT
# (8052). Uses a throwaway cluster of its own (bench/peers/cluster.sh), loads the generated
# archive once, and runs each soak on a fresh copy of it (database `soak`). The request log is
# bench/workload.py's (seed 42); the listings loaded each minute are `ingest generate` runs of
# 100 releases with seeds 1000, 1001, … Afterwards a reference copy gets the same listings, in
# the order the soak loaded them, with nothing injected, and the release count and a checksum
# of every release with its tags must be equal in both. Results: SOAK_ROOT/results/<run>/
# (bench/soak.py's files, checksum.txt) and a chart (CHART, default docs/soak.svg; FAULTS=1:
# no chart). Runs on demand, never in CI.
set -euo pipefail
cd "$(dirname "$0")/.."

releases=${1:-100000}
minutes=${MINUTES:-30}
root=${SOAK_ROOT:-/tmp/pressroom-soak}
api_port=${SOAK_API_PORT:-8052}
export PEERS_ROOT=$root PEERS_PGPORT=${SOAK_PGPORT:-55452}
base=archive_$releases
run=$(date +%Y%m%d-%H%M%S)$([ "${FAULTS:-0}" = 1 ] && echo -faults || true)
results=$root/results/$run

for tool in psql pg_isready curl python3; do
    command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 1; }
done
cargo build --release -q -p api -p ingest
server=$(bench/peers/cluster.sh up)
mkdir -p "$results"

# The archive, loaded once (its comment is set last, so a half-done load is redone).
loaded=$(psql "$server/postgres" -XtAc \
    "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$base'")
if [ "$loaded" != loaded ]; then
    corpus=$root/corpus/$releases
    [ -f "$corpus/generated-0001.txt" ] ||
        ./target/release/ingest generate --releases "$releases" --seed 42 --out "$corpus" >&2
    psql "$server/postgres" -Xqc "DROP DATABASE IF EXISTS $base" -c "CREATE DATABASE $base"
    ./target/release/ingest --migrate --database-url "$server/$base" "$corpus" >&2
    psql "$server/$base" -Xqc "VACUUM ANALYZE" -c "COMMENT ON DATABASE $base IS 'loaded'"
fi

# What the soak loads: one small listing a minute, and the listing the fault run kills.
listings=$root/listings
if [ ! -f "$listings/minute-$(printf %03d "$((minutes - 1))").txt" ]; then
    mkdir -p "$listings"
    for i in $(seq 0 $((minutes - 1))); do
        ./target/release/ingest generate --releases 100 --seed $((1000 + i)) --out "$root/tmp-gen" >/dev/null
        mv "$root/tmp-gen/generated-0001.txt" "$listings/minute-$(printf %03d "$i").txt"
    done
    ./target/release/ingest generate --releases 50000 --seed 7 --out "$root/tmp-gen" >/dev/null
    mv "$root/tmp-gen/generated-0001.txt" "$root/big-listing.txt"
    rm -rf "$root/tmp-gen"
fi
[ -s "$root/requests.jsonl" ] ||
    bench/workload.py --db "$server/$base" --out "$root/requests.jsonl" --requests 200000 --summary \
        | tee "$root/workload.txt" >&2

copy() { # copy NAME: a fresh copy of the loaded archive
    psql "$server/postgres" -Xqc "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1 TEMPLATE $base"
}
copy soak

./target/release/api --database-url "$server/soak" --bind "127.0.0.1:$api_port" --log-level warn \
    --response-cache-mib "${CACHE_MIB:-64}" >"$results/api.log" 2>&1 &
api_pid=$!
trap 'kill $api_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
    curl -fsS -o /dev/null "http://127.0.0.1:$api_port/readyz" 2>/dev/null && break
    kill -0 $api_pid 2>/dev/null || { tail -20 "$results/api.log" >&2; exit 1; }
    sleep 0.5
done

faults=()
if [ "${FAULTS:-0}" = 1 ]; then
    faults=(--fault restart-postgres@90 --fault kill-ingest@180 --fault terminate-listener@270
        --pgdata "$root/pgdata" --big-listing "$root/big-listing.txt")
fi
bench/soak.py --url "http://127.0.0.1:$api_port" --api-pid $api_pid --db "$server/soak" \
    --log "$root/requests.jsonl" --listings "$listings" --minutes "$minutes" \
    --rate "${RATE:-60}" --workers "${WORKERS:-16}" --out "$results" "${faults[@]}" >&2
kill $api_pid 2>/dev/null || true

# The reference: the same listings, in the same order, with nothing injected.
copy soak_reference
while read -r listing; do
    ./target/release/ingest --database-url "$server/soak_reference" --log-level warn "$listing" >/dev/null
done <"$results/ingests.tsv"
checksum() {
    psql "$server/$1" -XtAc "
        SELECT count(*) || ' ' || md5(string_agg(row_text, E'\n' ORDER BY id))
        FROM (
            SELECT r.id, concat_ws('|', r.id, r.slug, r.title, r.published_on, r.summary,
                r.image_credit,
                (SELECT string_agg(p.slug || '=' || rp.matched_alias, ',' ORDER BY p.slug)
                   FROM release_programme rp JOIN programme p ON p.id = rp.programme_id
                  WHERE rp.release_id = r.id),
                (SELECT string_agg(o.slug || '=' || ro.matched_alias, ',' ORDER BY o.slug)
                   FROM release_office ro JOIN office o ON o.id = ro.office_id
                  WHERE ro.release_id = r.id)) AS row_text
            FROM release r
        ) rows"
}
soak_sum=$(checksum soak)
reference_sum=$(checksum soak_reference)
{
    echo "soak:      $soak_sum (releases, md5 of every release with its tags)"
    echo "reference: $reference_sum"
    [ "$soak_sum" = "$reference_sum" ] && echo "equal" || echo "DIFFERENT"
} | tee "$results/checksum.txt" >&2
psql "$server/postgres" -Xqc "DROP DATABASE soak_reference"
if [ "${FAULTS:-0}" != 1 ]; then
    bench/soak_chart.py "$results/minutes.tsv" --out "${CHART:-docs/soak.svg}"
fi
echo "results in $results" >&2
[ "$soak_sum" = "$reference_sum" ]
