#!/usr/bin/env bash
# A/B of running api binaries on Q1–Q4: wrk (bench/peers/wrk.lua, one thread, CONNECTIONS=32)
# against each in turn, ROUNDS (3) rounds of SECONDS_RUN (5) s, interleaved, then the median
# req/s and p99 of each query and binary as a markdown table, the last column the ratio of the
# last binary to the first.
#   bench/peers/ab.sh before=http://127.0.0.1:8042/graphql after=http://127.0.0.1:8043/graphql
# The bodies are those `compare.py prepare` wrote under STATE (default
# /tmp/pressroom-peers/state/1000000/bodies); QUERIES (default "q1 q2 q3 q4"). Each api should
# run with --response-cache-mib 0; each body is sent three times first.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bodies=${STATE:-/tmp/pressroom-peers/state/1000000}/bodies
queries=${QUERIES:-"q1 q2 q3 q4"}
[ $# -ge 1 ] || { echo "usage: ab.sh NAME=URL..." >&2; exit 2; }
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for target in "$@"; do for q in $queries; do for _ in 1 2 3; do
    curl -fsS -o /dev/null -H 'content-type: application/json' --data-binary "@$bodies/ours-$q.json" "${target#*=}"
done; done; done
for round in $(seq 1 "${ROUNDS:-3}"); do for q in $queries; do for target in "$@"; do
    line=$(BODY_FILE=$bodies/ours-$q.json wrk -t1 -c"${CONNECTIONS:-32}" -d"${SECONDS_RUN:-5}s" --timeout 5s \
        -s "$here/wrk.lua" "${target#*=}" | grep '^RESULT')
    echo "$round $q ${target%%=*} $line" | tee -a "$results" >&2
done; done; done
python3 - "$results" "$@" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    parts = line.split()
    fields = dict(kv.split("=") for kv in parts[4:])
    rows.setdefault((parts[1], parts[2]), []).append((float(fields["rps"]), float(fields["p99"])))
names = [target.split("=", 1)[0] for target in sys.argv[2:]]
print("| query | " + " | ".join(f"{n}: req/s (p99 ms)" for n in names) + f" | {names[-1]} / {names[0]} |")
print("|---|" + "--:|" * (len(names) + 1))
for q in sorted({q for q, _ in rows}):
    med = {n: (statistics.median(r[0] for r in rows[(q, n)]), statistics.median(r[1] for r in rows[(q, n)])) for n in names}
    print(f"| {q.upper()} | " + " | ".join(f"{med[n][0]:,.0f} ({med[n][1]:.1f})" for n in names)
          + f" | {med[names[-1]][0] / med[names[0]][0]:.2f} |")
PY
