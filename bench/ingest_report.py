#!/usr/bin/env python3
"""The markdown table of bench/ingest.sh, from its runs.

    bench/ingest_report.py --releases N --listing-bytes B RUNS.tsv

RUNS.tsv has one line per run: run, ingest wall s, ingest peak RSS KB (/usr/bin/time %M),
COPY wall s. Medians of the runs give the throughputs; the ratio is ingest throughput over COPY
throughput (= median COPY time / median ingest time). Targets: ratio >= 0.50, and the highest
ingest peak RSS of the runs < 300 MB. MB are 10^6 bytes. Standard library only.
"""

import argparse
import statistics
import sys

RATIO_TARGET = 0.50
RSS_TARGET_MB = 300


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, required=True)
    parser.add_argument("--listing-bytes", type=int, required=True)
    parser.add_argument("runs", help="TSV: run, ingest_s, ingest_peak_rss_kb, copy_s")
    args = parser.parse_args()

    runs = []
    with open(args.runs, encoding="utf-8") as file:
        for line in file:
            if line.strip():
                run, ingest_s, rss_kb, copy_s = line.split("\t")
                runs.append((run, float(ingest_s), int(rss_kb) * 1024 / 1e6, float(copy_s)))
    if not runs:
        print("no runs", file=sys.stderr)
        return 1

    listing_mb = args.listing_bytes / 1e6
    ingest_s = statistics.median(r[1] for r in runs)
    copy_s = statistics.median(r[3] for r in runs)
    rss_mb = statistics.median(r[2] for r in runs)
    highest_rss_mb = max(r[2] for r in runs)
    ratio = copy_s / ingest_s
    yes = lambda held: "yes" if held else "**no**"

    rows = [(f"{args.releases:,} releases, {listing_mb:,.1f} MB of listings",
             "ingest", "COPY", "target", "holds")]
    for run, i_s, rss, c_s in runs:
        rows.append((f"run {run}: wall s", f"{i_s:.2f}", f"{c_s:.2f}", "", ""))
        rows.append((f"run {run}: peak RSS MB", f"{rss:.0f}", "", "", ""))
    rows += [
        ("median: wall s", f"{ingest_s:.2f}", f"{copy_s:.2f}", "", ""),
        ("median: peak RSS MB", f"{rss_mb:.0f}", "", "", ""),
        ("median: releases/s", f"{args.releases / ingest_s:,.0f}",
         f"{args.releases / copy_s:,.0f}", "", ""),
        ("median: listing MB/s", f"{listing_mb / ingest_s:.2f}", "", "", ""),
        ("throughput ratio ingest / COPY", f"{ratio:.2f}", "", f"≥ {RATIO_TARGET:.2f}",
         yes(ratio >= RATIO_TARGET)),
        ("peak RSS MB, highest run", f"{highest_rss_mb:.0f}", "", f"< {RSS_TARGET_MB}",
         yes(highest_rss_mb < RSS_TARGET_MB)),
    ]
    print("| " + " | ".join(rows[0]) + " |")
    print("|---|--:|--:|---|---|")
    for row in rows[1:]:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
