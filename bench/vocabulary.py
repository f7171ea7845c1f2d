#!/usr/bin/env python3
"""Counts the vocabulary of press-release listings (or of a plain text), for docs/benchmarks.md.

    bench/vocabulary.py [--ingest BIN] [--ranks FILE] [--heaps] LISTING_OR_FOLDER...
    bench/vocabulary.py --text FILE [--ranks FILE] [--heaps]

Listings are read through `ingest --dry-run` (BIN, default target/release/ingest), so the
releases are exactly those ingest would load. A word is a maximal run of letters, case-folded
("China's" is `china` and `s`; numbers are not words); only titles and summaries count, which
is what search indexes. Prints markdown: releases, words, distinct words, words seen once, the
distribution of title and summary lengths (in whitespace-separated words, as `ingest generate`
counts them) and, with --heaps, the number of distinct words after the first 10^k words with
Heaps' exponent between successive points. --ranks writes `rank<TAB>count` for every distinct
word, most frequent first (the input of bench/zipf_chart.py). Standard library only.
"""

import argparse
import json
import math
import os
import re
import subprocess
import sys
from collections import Counter

WORD = re.compile(r"[^\W\d_]+")


def releases(ingest, paths):
    """(title, summary or None) of every release, as ingest reads them."""
    command = [ingest, "--dry-run", *paths]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, bufsize=1 << 20) as proc:
        for line in proc.stdout:
            release = json.loads(line)
            yield release["title"], release.get("summary")
    if proc.returncode:
        sys.exit(f"{' '.join(command)} failed with status {proc.returncode}")


def quantiles(values):
    values = sorted(values)
    if not values:
        return "none"
    at = lambda q: values[min(len(values) - 1, int(q * len(values)))]
    mean = sum(values) / len(values)
    return (f"min {values[0]}, p10 {at(0.1)}, p25 {at(0.25)}, median {at(0.5)}, "
            f"p75 {at(0.75)}, p90 {at(0.9)}, max {values[-1]}, mean {mean:.1f}")


class Tally:
    def __init__(self, heaps):
        self.counts = Counter()
        self.words = 0
        self.heaps = heaps
        self.next_point = 10
        self.points = []

    def add(self, text):
        tokens = WORD.findall(text.lower())
        if not self.heaps:
            self.counts.update(tokens)
            self.words += len(tokens)
            return
        for token in tokens:
            self.counts[token] += 1
            self.words += 1
            if self.words == self.next_point:
                self.points.append((self.words, len(self.counts)))
                self.next_point *= 10

    def report(self, out):
        distinct = len(self.counts)
        once = sum(1 for n in self.counts.values() if n == 1)
        out.write(f"| words | {self.words:,} |\n")
        out.write(f"| distinct words | {distinct:,} |\n")
        out.write(f"| words seen once | {once:,} ({once / max(distinct, 1):.0%} of the distinct) |\n")
        top = ", ".join(w for w, _ in self.counts.most_common(10))
        out.write(f"| most frequent | {top} |\n")
        if self.heaps:
            points = self.points + [(self.words, distinct)]
            previous = None
            for words, vocabulary in points:
                exponent = ""
                if previous and words > previous[0]:
                    beta = math.log(vocabulary / previous[1]) / math.log(words / previous[0])
                    exponent = f" (exponent {beta:.2f})"
                out.write(f"| distinct words in the first {words:,} words | "
                          f"{vocabulary:,}{exponent} |\n")
                previous = (words, vocabulary)

    def write_ranks(self, path):
        with open(path, "w", encoding="utf-8") as out:
            for rank, (_, count) in enumerate(self.counts.most_common(), start=1):
                out.write(f"{rank}\t{count}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", help="listing files or folders of listings")
    parser.add_argument("--ingest", default=os.environ.get("INGEST", "target/release/ingest"))
    parser.add_argument("--text", help="count a plain text file instead of listings")
    parser.add_argument("--ranks", help="write rank<TAB>count here")
    parser.add_argument("--heaps", action="store_true", help="distinct words after 10^k words")
    args = parser.parse_args()
    if bool(args.text) == bool(args.paths):
        parser.error("give listings or --text, not both")

    tally = Tally(args.heaps)
    out = sys.stdout
    out.write("| | |\n|---|--:|\n")
    if args.text:
        with open(args.text, encoding="utf-8") as text:
            for line in text:
                tally.add(line)
    else:
        titles, summaries, without = [], [], 0
        for title, summary in releases(args.ingest, args.paths):
            tally.add(title)
            titles.append(len(title.split()))
            if summary:
                tally.add(summary)
                summaries.append(len(summary.split()))
            else:
                without += 1
        out.write(f"| releases | {len(titles):,} |\n")
        out.write(f"| without a summary | {without:,} ({without / max(len(titles), 1):.1%}) |\n")
        out.write(f"| title words | {quantiles(titles)} |\n")
        out.write(f"| summary words | {quantiles(summaries)} |\n")
    tally.report(out)
    if args.ranks:
        tally.write_ranks(args.ranks)


if __name__ == "__main__":
    main()
