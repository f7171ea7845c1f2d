#!/usr/bin/env bash
# Live updates at scale: SUBSCRIBERS (10,000) filtered subscriptions, one WebSocket each, on one
# release api process, while RELEASES (60) releases are ingested one every INTERVAL_MS (1000).
# Prints subscribers.mjs's JSON: delivery latency from commit to client (p50, p90, p99, max),
# missing/extra/duplicate deliveries against `releases` with each filter, the api's memory per
# subscription, and the database connections in use. Creates database pressroom_live_bench on
# ADMIN_URL's server (dropped on exit) and loads the 40 seed releases into it.
set -euo pipefail
cd "$(dirname "$0")/../.."

SUBSCRIBERS=${SUBSCRIBERS:-10000}
RELEASES=${RELEASES:-60}
INTERVAL_MS=${INTERVAL_MS:-1000}
PORT=${PORT:-8044}
ADMIN_URL=${ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
OUT=${OUT:-/tmp/pressroom-live/$(date +%Y%m%dT%H%M%S)}
DB=pressroom_live_bench
DB_URL="${ADMIN_URL%/*}/$DB"

[ -x target/release/api ] && [ -x target/release/ingest ] || cargo build --release -p api -p ingest
[ -d clients/node_modules/ws ] || (cd clients && npm ci --no-audit --no-fund)

# Every subscriber holds a socket in the api and one in the client: each process needs one per subscriber.
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((SUBSCRIBERS + 1000)) ]; then
    echo "live.sh: the open-files limit ($(ulimit -n)) is too low for $SUBSCRIBERS subscribers" >&2
    exit 1
fi

psql -X -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
api_pid=
cleanup() {
    [ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null
    psql -X -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true
}
trap cleanup EXIT

target/release/ingest --migrate --database-url "$DB_URL" >/dev/null
mkdir -p "$OUT"
target/release/api --database-url "$DB_URL" --bind "127.0.0.1:$PORT" --log-level warn \
    --max-subscription-connections $((SUBSCRIBERS + 100)) >"$OUT/api.log" 2>&1 &
api_pid=$!
for _ in $(seq 1 50); do
    curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break
    sleep 0.2
done

node bench/live/subscribers.mjs --url "http://127.0.0.1:$PORT" --database-url "$DB_URL" \
    --ingest target/release/ingest --api-pid "$api_pid" --subscribers "$SUBSCRIBERS" \
    --releases "$RELEASES" --interval-ms "$INTERVAL_MS" --out "$OUT"
echo "live.sh: results in $OUT"
