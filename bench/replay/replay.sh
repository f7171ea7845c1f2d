#!/usr/bin/env bash
# Replays a request log (bench/workload.py) against a running api with wrk, and reports
# req/s, p50, p99 and the response cache's hit rate over the run. Any other GraphQL server
# whose /graphql takes the log's bodies can be replayed too (PostGraphile with the peer log of
# `workload.py --peer-logs`): without the api's /metrics, the hit rate is n/a.
#   bench/replay/replay.sh URL LOG
# URL is the server's root (http://127.0.0.1:8042). Environment: CONNECTIONS (32), TIMEOUT (60 s:
# wrk's own 2 s would drop slow requests from the latencies), SECONDS_PER_RUN
# (30), RUNS (3), WRK_THREADS (1). Prints one markdown row per run, then the medians; exits 1
# if any request was answered other than 200.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
url=${1:?usage: replay.sh URL LOG}
log=${2:?usage: replay.sh URL LOG}
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 1; }
[ -s "$log" ] || { echo "$log: no such log (bench/workload.py writes one)" >&2; exit 1; }
threads=${WRK_THREADS:-1}

metrics=1
curl -fsS -o /dev/null "$url/metrics" 2>/dev/null || metrics=0
counter() { # counter RESULT: the cache lookups with that result so far (0 without /metrics)
    [ "$metrics" = 1 ] || { echo 0; return; }
    curl -fsS "$url/metrics" | awk -v r="$1" '$1 ~ "^pressroom_response_cache_lookups_total" && $1 ~ "result=\"" r "\"" { s += $2 } END { print s + 0 }'
}

echo "| run | req/s | p50 ms | p99 ms | requests | non-2xx | socket errors | cache hits |"
echo "|---|--:|--:|--:|--:|--:|--:|--:|"
rows=()
failed=0
for run in $(seq 1 "${RUNS:-3}"); do
    hits=$(counter hit); misses=$(counter miss); bypass=$(counter bypass)
    line=$(LOG_FILE=$log WRK_THREADS=$threads wrk -t "$threads" -c "${CONNECTIONS:-32}" --timeout "${TIMEOUT:-60}s" \
        -d "${SECONDS_PER_RUN:-30}s" --latency -s "$here/replay.lua" "$url/graphql" | grep '^RESULT')
    hits=$(( $(counter hit) - hits )); misses=$(( $(counter miss) - misses )); bypass=$(( $(counter bypass) - bypass ))
    lookups=$((hits + misses + bypass))
    rate=$(awk -v h=$hits -v n=$lookups -v m=$metrics 'BEGIN { if (!m) print "n/a"; else if (n) printf "%.1f%%", 100 * h / n; else print "off" }')
    eval "$(echo "$line" | sed 's/^RESULT //; s/ /;/g')"
    # shellcheck disable=SC2154 # set by the eval
    echo "| $run | $rps | $p50 | $p99 | $requests | $non2xx | $sockerr | $rate |"
    rows+=("$rps $p50 $p99")
    # shellcheck disable=SC2154
    if [ "$non2xx" != 0 ]; then echo "run $run: $non2xx answers were not 200 (the api's log says why)" >&2; failed=1; fi
done
printf '%s\n' "${rows[@]}" | python3 -c '
import statistics, sys
rows = [list(map(float, line.split())) for line in sys.stdin if line.strip()]
print("| median | %.0f | %.2f | %.2f | | | | |" % tuple(statistics.median(c) for c in zip(*rows)))'
exit "$failed"
