#!/usr/bin/env bash
# A small end-to-end run of the peer-comparison harness, for CI: it checks that the api and
# the SQL of bench/peers answer Q1–Q5 with the same rows, then runs each query for one second.
#   bench/smoke.sh
# Generates 2,000 releases (seed 42) into a temporary folder, creates database
# bench_smoke_<pid> on the server of DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/postgres, used to create and drop it), loads it with
# `ingest --migrate`, starts the api on a free port, runs `compare.py prepare` and `check`
# without PostGraphile, then `compare.py run` for one second per query: pgbench always, wrk
# only when it is installed. Exits non-zero on any difference or error. The api, the
# database and the temporary folder are removed on exit. BIN_DIR (default target/debug) holds
# the api and ingest binaries: `cargo build -p api -p ingest` first.
set -euo pipefail
cd "$(dirname "$0")/.."

admin=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
bin=${BIN_DIR:-target/debug}
database=bench_smoke_$$
started=$SECONDS

for tool in psql pgbench python3; do
    command -v "$tool" >/dev/null || { echo "smoke: $tool not found" >&2; exit 1; }
done
for binary in api ingest; do
    [ -x "$bin/$binary" ] || { echo "smoke: no $bin/$binary (cargo build -p api -p ingest, or set BIN_DIR)" >&2; exit 1; }
done

# The admin URL with the smoke database in place of its own (credentials and options kept).
url=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' \
    "$admin" "$database")
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
tmp=$(mktemp -d)
api_pid=
created=0

cleanup() {
    local status=$?
    if [ -n "$api_pid" ]; then
        kill "$api_pid" 2>/dev/null || true
        wait "$api_pid" 2>/dev/null || true
    fi
    if [ "$status" != 0 ] && [ -s "$tmp/api.log" ]; then
        echo "smoke: the api's log:" >&2
        tail -20 "$tmp/api.log" >&2
    fi
    if [ "$created" = 1 ]; then
        psql "$admin" -Xq -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >&2 || true
    fi
    rm -rf "$tmp"
    echo "smoke: $([ "$status" = 0 ] && echo passed || echo FAILED) in $((SECONDS - started)) s" >&2
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$bin/ingest" generate --releases 2000 --seed 42 --out "$tmp/corpus" >&2
psql "$admin" -Xq -v ON_ERROR_STOP=1 -c "CREATE DATABASE $database"
created=1
"$bin/ingest" --migrate --database-url "$url" "$tmp/corpus" >&2
psql "$url" -Xq -v ON_ERROR_STOP=1 -c "VACUUM ANALYZE"

"$bin/api" --database-url "$url" --bind "127.0.0.1:$port" --log-level warn >"$tmp/api.log" 2>&1 &
api_pid=$!
ready=0
for _ in $(seq 1 60); do
    if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
        "http://127.0.0.1:$port/readyz" 2>/dev/null; then
        ready=1
        break
    fi
    kill -0 "$api_pid" 2>/dev/null || { echo "smoke: the api exited" >&2; exit 1; }
    sleep 0.5
done
[ "$ready" = 1 ] || { echo "smoke: the api did not become ready within 30 s" >&2; exit 1; }

targets=(--db "$url" --ours "http://127.0.0.1:$port/graphql" --postgraphile none --state "$tmp/state")
bench/peers/compare.py prepare "${targets[@]}"
bench/peers/compare.py check "${targets[@]}"

load=(--runs 1 --seconds 1 --warmup 0 --connections 4)
if command -v wrk >/dev/null; then
    bench/peers/compare.py run "${targets[@]}" "${load[@]}" --api-pid "$api_pid"
else
    echo "smoke: wrk not installed; pgbench only" >&2
    targets[3]=none
    bench/peers/compare.py run "${targets[@]}" "${load[@]}"
fi
