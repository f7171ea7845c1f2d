#!/usr/bin/env bash
# The archive's API beside PostGraphile and beside plain SQL, on the same database.
#   bench/peers/compare.sh [RELEASES=100000]
# Starts a throwaway PostgreSQL cluster (cluster.sh), generates RELEASES releases with seed 42
# and loads them with `ingest --migrate` (once per size), starts `api` and PostGraphile on that
# database, checks that they answer Q1–Q5 with the same rows (Q5, a search, without
# PostGraphile, which has no full-text search), then measures them (wrk and pgbench -M
# prepared) and prints a markdown table, followed by the api's memory (VmRSS) idle and under
# the Q1 load. Environment: RUNS (3), RUN_SECONDS (5), CONNECTIONS (32), OURS_PORT (8042),
# POSTGRAPHILE_PORT (5688), PEERS_ROOT (/tmp/pressroom-peers), KEEP=1 to leave the servers and
# the cluster running afterwards (a cluster that was already running is always left running),
# RESPONSE_CACHE_MIB (0: the api runs every request; wrk repeats one request, so with the
# response cache on, e.g. 64, every request after the first is a cache hit).
set -euo pipefail
cd "$(dirname "$0")/../.."

releases=${1:-100000}
root=${PEERS_ROOT:-/tmp/pressroom-peers}
ours_port=${OURS_PORT:-8042}
cache_mib=${RESPONSE_CACHE_MIB:-0}
postgraphile_port=${POSTGRAPHILE_PORT:-5688}
corpus=$root/corpus/$releases
database=archive_$releases
state=$root/state/$releases
export PEERS_ROOT=$root

for tool in wrk pgbench psql npm; do
    command -v "$tool" >/dev/null || { echo "$tool not found (wrk: apt-get install -y wrk)" >&2; exit 1; }
done

cargo build --release -q -p api -p ingest

cluster_was_up=0
if pg_isready -q -h 127.0.0.1 -p "${PEERS_PGPORT:-55442}"; then cluster_was_up=1; fi
server=$(bench/peers/cluster.sh up)
url=$server/$database

stop() {
    if [ "${KEEP:-0}" = 1 ]; then
        echo "left running: api on :$ours_port, PostGraphile on :$postgraphile_port, $url" >&2
        return
    fi
    if [ -f "$root/api.pid" ]; then kill "$(cat "$root/api.pid")" 2>/dev/null || true; rm -f "$root/api.pid" "$root/api.target"; fi
    bench/peers/postgraphile.sh down
    if [ "$cluster_was_up" = 0 ]; then bench/peers/cluster.sh down; fi
}
trap stop EXIT

# A database is only reused once its load finished: the comment is set last.
loaded=$(psql "$server/postgres" -XtAc \
    "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$database'")
if [ "$loaded" != loaded ]; then
    if [ ! -f "$corpus/generated-0001.txt" ]; then
        ./target/release/ingest generate --releases "$releases" --seed 42 --out "$corpus" >&2
    fi
    psql "$server/postgres" -Xqc "DROP DATABASE IF EXISTS $database" -c "CREATE DATABASE $database"
    started=$SECONDS
    ./target/release/ingest --migrate --database-url "$url" "$corpus" >&2
    echo "ingest of $releases releases: $((SECONDS - started)) s" >&2
    psql "$url" -Xqc "VACUUM ANALYZE" -c "COMMENT ON DATABASE $database IS 'loaded'"
fi

# A running api is reused only while it serves this database on this port.
if [ -f "$root/api.pid" ] && kill -0 "$(cat "$root/api.pid")" 2>/dev/null &&
    [ "$(cat "$root/api.target" 2>/dev/null)" != "$url $ours_port $cache_mib" ]; then
    echo "the running api serves another database, port or cache size: restarting it" >&2
    kill "$(cat "$root/api.pid")"
    while kill -0 "$(cat "$root/api.pid")" 2>/dev/null; do sleep 0.2; done
    rm -f "$root/api.pid"
fi
if ! { [ -f "$root/api.pid" ] && kill -0 "$(cat "$root/api.pid")" 2>/dev/null; }; then
    if curl -s -o /dev/null "http://127.0.0.1:$ours_port/"; then
        echo "port $ours_port is taken by another process (set OURS_PORT)" >&2
        exit 1
    fi
    ./target/release/api --database-url "$url" --bind "127.0.0.1:$ours_port" --log-level warn \
        --response-cache-mib "$cache_mib" >"$root/api.log" 2>&1 &
    echo $! >"$root/api.pid"
    echo "$url $ours_port $cache_mib" >"$root/api.target"
fi
for _ in $(seq 1 60); do
    curl -fsS -o /dev/null "http://127.0.0.1:$ours_port/readyz" 2>/dev/null && break
    kill -0 "$(cat "$root/api.pid")" 2>/dev/null || { tail -20 "$root/api.log" >&2; exit 1; }
    sleep 0.5
done
bench/peers/postgraphile.sh up "$url" "$postgraphile_port"

targets=(--db "$url" --ours "http://127.0.0.1:$ours_port/graphql"
    --postgraphile "http://127.0.0.1:$postgraphile_port/graphql" --state "$state")
bench/peers/compare.py prepare "${targets[@]}"
bench/peers/compare.py check "${targets[@]}"
echo "api response cache: ${cache_mib} MiB" >&2
bench/peers/compare.py run "${targets[@]}" --runs "${RUNS:-3}" --seconds "${RUN_SECONDS:-5}" \
    --connections "${CONNECTIONS:-32}" --api-pid "$(cat "$root/api.pid")"
