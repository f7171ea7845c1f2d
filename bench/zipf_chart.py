#!/usr/bin/env python3
"""Draws the rank/frequency (Zipf) chart of docs/benchmarks.md from `bench/vocabulary.py --ranks`
files: each word's share of all words against its rank, both axes logarithmic, one line per
corpus, and the line of Zipf's law (share = 0.1 / rank) for reference.

    bench/zipf_chart.py --out docs/zipf.svg "generated, 1M releases=/tmp/ranks-1m.tsv" \\
        "seed listings=/tmp/ranks-seeds.tsv" "King James Bible=/tmp/ranks-kjv.tsv"

--wordfreq WHEEL adds the frequencies of wordfreq's large English list (the `pip download`
wheel of wordfreq 3.1.1; needs msgpack): English at large, as measured over billions of words.
Needs matplotlib (`pip install matplotlib`).
"""

import argparse
import gzip
import math
import sys
import zipfile


def thin(ranks, shares):
    """About 100 points per decade of rank: the curve as drawn, in a small file."""
    kept, last = ([], []), None
    for rank, share in zip(ranks, shares):
        step = int(math.log10(rank) * 100)
        if step != last or rank == ranks[-1]:
            kept[0].append(rank)
            kept[1].append(share)
            last = step
    return kept


def read_ranks(path):
    with open(path, encoding="utf-8") as lines:
        counts = [int(line.split("\t")[1]) for line in lines if line.strip()]
    total = sum(counts)
    return list(range(1, len(counts) + 1)), [count / total for count in counts]


def wordfreq_ranks(wheel):
    import msgpack

    with zipfile.ZipFile(wheel) as archive:
        packed = gzip.decompress(archive.read("wordfreq/data/large_en.msgpack.gz"))
    buckets = msgpack.unpackb(packed, raw=False, strict_map_key=False)[1:]
    shares = [10 ** (-centibels / 100) for centibels, words in enumerate(buckets) for _ in words]
    return list(range(1, len(shares) + 1)), shares


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("series", nargs="+", help="LABEL=RANKS.tsv")
    parser.add_argument("--out", default="docs/zipf.svg")
    parser.add_argument("--wordfreq", help="wordfreq wheel: adds English at large")
    args = parser.parse_args()
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("matplotlib is missing: pip install matplotlib")

    matplotlib.rcParams["svg.hashsalt"] = "zipf"  # the same input gives the same file
    fig, ax = plt.subplots(figsize=(8, 5.5))
    styles = ["-", "--", "-.", ":"]
    longest = 1
    for n, series in enumerate(args.series):
        label, path = series.split("=", 1)
        ranks, shares = read_ranks(path)
        longest = max(longest, len(ranks))
        ax.plot(*thin(ranks, shares), styles[n % len(styles)], linewidth=1.6,
                label=f"{label} ({len(ranks):,} distinct words)")
    if args.wordfreq:
        ranks, shares = wordfreq_ranks(args.wordfreq)
        longest = max(longest, len(ranks))
        ax.plot(*thin(ranks, shares), ":", color="grey", linewidth=1.6,
                label=f"English at large, wordfreq ({len(ranks):,} distinct words)")
    zipf = [1, longest]
    ax.plot(zipf, [0.1 / r for r in zipf], color="black", linewidth=0.8, alpha=0.5,
            label="Zipf's law: 0.1 / rank")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("rank of the word (1 = most frequent)")
    ax.set_ylabel("share of all words")
    ax.set_title("Rank and frequency of words (case-folded, letters only)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, metadata={"Date": None})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
