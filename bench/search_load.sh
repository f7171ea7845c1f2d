#!/usr/bin/env bash
# Search throughput beside Q1's, in the same run: a running api (cache off) is sent, by
# bench/replay/replay.sh at CONNECTIONS (32), first Q1 alone, then the search page's request for
# every query of the search set in every combination (bench/search_bench.py --write-logs), RUNS
# (3) times interleaved for SECONDS_PER_RUN (20) each. Prints both tables and the ratio of the
# median rates (the target: search at least 1/4 of Q1).
#   bench/search_load.sh URL            # URL: the server's root, e.g. http://127.0.0.1:8043
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
url=${1:?usage: search_load.sh URL}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
python3 "$here/search_bench.py" "$url/graphql" --set "$here/queries/search-set.tsv" --write-logs "$logs"
runs=${RUNS:-3}
q1=() search=()
for run in $(seq 1 "$runs"); do
    for kind in q1 search; do
        row=$(RUNS=1 SECONDS_PER_RUN=${SECONDS_PER_RUN:-20} "$here/replay/replay.sh" "$url" "$logs/$kind.jsonl" | grep '^| 1 ')
        echo "$kind run $run: $row"
        rate=$(echo "$row" | awk -F'|' '{ gsub(/ /, "", $3); print $3 }')
        if [ "$kind" = q1 ]; then q1+=("$rate"); else search+=("$rate"); fi
    done
done
python3 - "${q1[*]}" "${search[*]}" <<'PY'
import statistics, sys
q1 = [float(x) for x in sys.argv[1].split()]
search = [float(x) for x in sys.argv[2].split()]
print(f"| Q1 newest 20 | {statistics.median(q1):.0f} req/s | runs {', '.join(f'{x:.0f}' for x in q1)} |")
print(f"| search page (set × combinations) | {statistics.median(search):.0f} req/s | runs {', '.join(f'{x:.0f}' for x in search)} |")
print(f"| ratio search / Q1 | {statistics.median(search) / statistics.median(q1):.2f} | target ≥ 0.25 |")
PY
