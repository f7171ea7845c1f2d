#!/usr/bin/env bash
# Times the sitemap on a large archive: the index, then the first, a middle and the last page of
# releases, each RUNS times (default 7) with curl after one warm-up request, and the api's
# memory while it serves them.
#   bench/sitemap.sh [RELEASES=1000000]
# The archive is bench/archive-1m.sh's (built once: about ten minutes at 1,000,000). The release
# api is started on it with --migrate (which adds the sitemap's index to an archive loaded
# before it) on 127.0.0.1:$PORT (default 8043) and stopped on exit. Requests ask for gzip, as
# crawlers do. Prints a markdown table: median, min and max seconds, bytes sent and received,
# URLs per document; then the api's resident memory idle, after the runs, and its peak.
set -euo pipefail
cd "$(dirname "$0")/.."

releases=${1:-1000000}
runs=${RUNS:-7}
port=${PORT:-8043}
base=http://127.0.0.1:$port

url=$(bench/archive-1m.sh "$releases")

./target/release/api --database-url "$url" --migrate --bind "127.0.0.1:$port" \
    --log-level warn >/tmp/sitemap-bench-api.log 2>&1 &
api=$!
trap 'kill "$api" 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
    curl -sf "$base/readyz" >/dev/null 2>&1 && break
    kill -0 "$api" 2>/dev/null || { cat /tmp/sitemap-bench-api.log >&2; exit 1; }
    sleep 1
done

rss_kib() { awk -v key="$1:" '$1 == key { print $2 }' "/proc/$api/status"; }
idle=$(rss_kib VmRSS)

# The pages the index lists: the catalogue's first, then the releases pages in order.
mapfile -t pages < <(curl -sf --compressed "$base/sitemap.xml" | sed -n 's|.*<loc>\(.*\)</loc>.*|\1|p' | sed 's/&amp;/\&/g')
release_pages=("${pages[@]:1}")
count=${#release_pages[@]}
if [ "$count" -eq 0 ]; then
    echo "the index lists no releases page" >&2
    exit 1
fi
first=${release_pages[0]}
middle=${release_pages[$((count / 2))]}
last=${release_pages[$((count - 1))]}

# One document: its median, min and max time over $runs requests, and its sizes.
measure() {
    local label=$1 target=$2 times sizes urls
    curl -sf --compressed -o /dev/null "$target"
    times=$(for _ in $(seq 1 "$runs"); do
        curl -sf --compressed -o /dev/null -w '%{time_total}\n' "$target"
    done | sort -n)
    sizes=$(curl -sf -H 'Accept-Encoding: gzip' -o /dev/null -w '%{size_download}' "$target")
    urls=$(curl -sf --compressed "$target" | grep -c '<loc>')
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$label" \
        "$(echo "$times" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')" \
        "$(echo "$times" | head -n 1)" "$(echo "$times" | tail -n 1)" \
        "$(curl -sf -o /dev/null -w '%{size_download}' "$target")" "$sizes" "$urls"
}

echo "sitemap of $releases releases: $count pages of releases; $runs runs each after a warm-up;" \
    "load average $(cut -d ' ' -f 1-3 /proc/loadavg) on $(nproc) cores"
echo
echo "| document | median s | min s | max s | bytes | gzip bytes | URLs |"
echo "|---|---|---|---|---|---|---|"
measure "/sitemap.xml (index)" "$base/sitemap.xml"
measure "first page" "$first"
measure "middle page ($((count / 2 + 1)) of $count)" "$middle"
measure "last page" "$last"
echo
echo "load average after: $(cut -d ' ' -f 1-3 /proc/loadavg)"
echo "api resident memory: $((idle / 1024)) MiB idle, $(( $(rss_kib VmRSS) / 1024 )) MiB after the runs, $(( $(rss_kib VmHWM) / 1024 )) MiB peak"
