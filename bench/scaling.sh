#!/usr/bin/env bash
# The peer comparison at several archive sizes, and a chart of how its figures grow.
#   SIZES="10000 100000 1000000" bench/scaling.sh
# Runs bench/peers/compare.sh N for each size of SIZES (default 10000 100000 1000000) with
# RUNS (3), RUN_SECONDS (5) and compare.sh's other variables passed through, keeps the table
# each run prints in PEERS_ROOT/state/N/table.md, then draws bench/plot.py's chart of those
# runs into PLOT (default docs/scaling.svg; a .png name gives a PNG). Installs matplotlib with
# pip when it is missing. Runs on demand, never in CI: at 1,000,000 releases the first run
# spends about ten minutes loading.
set -euo pipefail
cd "$(dirname "$0")/.."

sizes=${SIZES:-10000 100000 1000000}
root=${PEERS_ROOT:-/tmp/pressroom-peers}
plot=${PLOT:-docs/scaling.svg}
export PEERS_ROOT=$root RUNS=${RUNS:-3} RUN_SECONDS=${RUN_SECONDS:-5}

if ! python3 -c 'import matplotlib' 2>/dev/null; then
    echo "matplotlib not found: pip install matplotlib" >&2
    python3 -m pip install --quiet matplotlib
fi

for releases in $sizes; do
    state=$root/state/$releases
    mkdir -p "$state"
    echo "== $releases releases" >&2
    bench/peers/compare.sh "$releases" | tee "$state/table.md.partial"
    mv "$state/table.md.partial" "$state/table.md"
done

# shellcheck disable=SC2086 # one argument per size
bench/plot.py --root "$root" --out "$plot" $sizes
