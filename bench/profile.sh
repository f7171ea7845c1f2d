#!/usr/bin/env bash
# Where a running api's CPU goes per request under one of Q1–Q5: `perf record -g` of the api on
# PORT for 8 s while wrk sends the query's body (32 connections), then `profile_parts.py`'s table.
#   bench/profile.sh PORT QUERY [NAME]        e.g. bench/profile.sh 8043 q3 after
# Build the api with frame pointers for whole stacks:
#   RUSTFLAGS="-C force-frame-pointers=yes" CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
#     CARGO_PROFILE_RELEASE_STRIP=none cargo build --release -p api --target-dir /tmp/target-prof
# Needs perf (Debian's linux-perf) and wrk; the bodies of `compare.py prepare` (STATE, default
# /tmp/pressroom-peers/state/1000000). Leaves /tmp/perf-NAME-QUERY.{data,txt}.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
port=${1:?usage: profile.sh PORT QUERY [NAME]}
query=${2:?usage: profile.sh PORT QUERY [NAME]}
name=${3:-api}
body=${STATE:-/tmp/pressroom-peers/state/1000000}/bodies/ours-$query.json
pid=$(pgrep -f -- "--bind 127.0.0.1:$port" | head -1)
[ -n "$pid" ] || { echo "no api serving 127.0.0.1:$port" >&2; exit 1; }
for _ in 1 2 3; do curl -fsS -o /dev/null -H 'content-type: application/json' --data-binary "@$body" "http://127.0.0.1:$port/graphql"; done
BODY_FILE=$body wrk -t1 -c32 -d12s -s "$here/peers/wrk.lua" "http://127.0.0.1:$port/graphql" >"/tmp/wrk-$name-$query.txt" &
sleep 2
perf record -F 1999 -g -p "$pid" -o "/tmp/perf-$name-$query.data" -- sleep 8 >/dev/null 2>&1
wait
rps=$(grep -o 'rps=[0-9.]*' "/tmp/wrk-$name-$query.txt" | cut -d= -f2)
perf script -i "/tmp/perf-$name-$query.data" 2>/dev/null >"/tmp/perf-$name-$query.txt"
"$here/profile_parts.py" "$name $query=/tmp/perf-$name-$query.txt=$rps"
