#!/usr/bin/env bash
# The capacity figures of docs/scaling.md: the realistic replay (workload.py + replay/replay.sh)
# at RELEASES (1,000,000) releases, against one release api pinned to one core (taskset -c 0),
# reading the primary or a streaming replica of it, with the response cache off and on.
#   bench/replicas.sh [RELEASES]
# Makes its own primary (initdb) on port $PRIMARY_PORT (55472) under $ROOT
# (/tmp/pressroom-replicas), loads it with bench/archive-1m.sh (reusing the generated corpus and
# the database when they exist), makes a hot standby of it with pg_basebackup -R on
# $STANDBY_PORT (55473), writes the request log (workload.py, seed 42) once, then for each of the
# four configurations runs replay.sh (RUNS, SECONDS_PER_RUN and CONNECTIONS pass through) and
# prints its table. The clusters are left running for another round; stop them with
#   runuser -u postgres -- pg_ctl stop -D $ROOT/primary; … -D $ROOT/standby
# Needs wrk, psql, taskset, and PostgreSQL's server programs in $POSTGRES_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."

releases=${1:-1000000}
root=${ROOT:-/tmp/pressroom-replicas}
bin=${POSTGRES_BIN:-/usr/lib/postgresql/15/bin}
primary_port=${PRIMARY_PORT:-55472}
standby_port=${STANDBY_PORT:-55473}
api_port=${API_PORT:-8047}
as_postgres=()
[ "$(id -u)" = 0 ] && as_postgres=(runuser -u postgres --)

for tool in wrk psql taskset; do
    command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 1; }
done
mkdir -p "$root"
[ "$(id -u)" = 0 ] && chown postgres: "$root"

start_cluster() { # start_cluster DIR PORT
    "${as_postgres[@]}" "$bin/pg_ctl" start -D "$1" -w -l "$1.log" \
        -o "-c port=$2 -c listen_addresses=127.0.0.1 -c unix_socket_directories=$root -c shared_buffers=1GB -c max_connections=200" >/dev/null
}

if [ ! -d "$root/primary" ]; then
    "${as_postgres[@]}" "$bin/initdb" -D "$root/primary" -U postgres --auth trust -E UTF8 --locale C.UTF-8 >/dev/null
fi
"${as_postgres[@]}" "$bin/pg_ctl" status -D "$root/primary" >/dev/null 2>&1 || start_cluster "$root/primary" "$primary_port"
url=$(ADMIN_URL=postgres://postgres@127.0.0.1:$primary_port/postgres bench/archive-1m.sh "$releases")
standby_url=${url/:$primary_port\//:$standby_port/}

if [ ! -d "$root/standby" ]; then
    "${as_postgres[@]}" "$bin/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$root/standby" -R -X stream -c fast
fi
"${as_postgres[@]}" "$bin/pg_ctl" status -D "$root/standby" >/dev/null 2>&1 || start_cluster "$root/standby" "$standby_port"

log=$root/requests-$releases.jsonl
[ -s "$log" ] || bench/workload.py --db "$url" --out "$log" --requests 200000 --summary >&2

api_pid=
stop_api() { [ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null; api_pid=; }
trap stop_api EXIT

run() { # run LABEL CACHE_MIB [API FLAGS…]
    local label=$1 cache=$2
    shift 2
    taskset -c 0 target/release/api --database-url "$url" --bind "127.0.0.1:$api_port" \
        --response-cache-mib "$cache" --log-level warn "$@" &
    api_pid=$!
    for _ in $(seq 1 100); do
        curl -fsS "http://127.0.0.1:$api_port/readyz" >/dev/null 2>&1 && break
        sleep 0.1
    done
    echo
    echo "### $label, response cache $([ "$cache" = 0 ] && echo off || echo "$cache MiB")"
    echo
    curl -fsS "http://127.0.0.1:$api_port/readyz"; echo
    echo
    bench/replay/replay.sh "http://127.0.0.1:$api_port" "$log" || true
    stop_api
}

echo "# Replay at $releases releases, api on one core ($(date -u +%F))"
run "primary" 0
run "one replica" 0 --replica-url "$standby_url"
run "primary" 64
run "one replica" 64 --replica-url "$standby_url"
