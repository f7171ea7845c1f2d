#!/usr/bin/env python3
"""Latency of the search page's request for every query of the search set, per class.

    bench/search_bench.py URL [--set bench/queries/search-set.tsv] [--repeat 3] [--runs 3]
                          [--programme SLUG] [--office SLUG] [--from DATE --to DATE]

The request is what a search page sends: `releases(filter: {search, …}, orderBy: RELEVANCE,
first: 20)` with `totalCount` and each node's title, highlight, date, programmes and offices,
together with `releaseFacets(filter: {search, …})` (years, months, programmes, offices). Every
query of the set is sent alone and combined with a programme, an office and a date range
(`--programme`, `--office`, `--from`/`--to`; defaults: the programme and office with the most
releases, the last full year of the archive), one request at a time from one client, `--repeat`
times per run and `--runs` runs interleaved, after `--warmup` passes (1). Q1 (the newest 20, no
search, as `bench/peers/queries/ours/q1`) is measured in the same runs as the baseline.

Prints a markdown table: per class and combination, the number of requests, p50 and p95 in ms
(medians over the runs) and p95 as a multiple of Q1's p50. Any request answered with errors is
reported and counted, never timed. The api should run with its response cache off
(`--response-cache-mib 0`), or every repeat measures the cache. Standard library only.

With `--suggestions` it times `searchSuggestions` instead (8 completions with their counts,
and the matching programmes and offices): for every word of the set, each of its prefixes from
2 letters as typed, alone and under the programme and the office, and prints p50/p95 per
prefix length.

With `--write-logs DIR` it measures nothing and writes two request logs for
`bench/replay/replay.sh` instead: `DIR/search.jsonl`, every query of the set in every
combination (one request body per line, in a fixed shuffled order), and `DIR/q1.jsonl`, Q1
alone: `bench/search_load.sh` replays both at 32 connections for the throughput ratio.
"""
import argparse
import json
import statistics
import sys
import time
import urllib.error
import urllib.request

SEARCH = """query SearchPage($filter: ReleaseFilter) {
  releases(filter: $filter, orderBy: RELEVANCE, first: 20) {
    totalCount
    nodes { title highlight publishedOn programmes { slug } offices { slug } }
  }
  releaseFacets(filter: $filter) {
    years { year count }
    months { year month count }
    programmes { programme { slug } count }
    offices { office { slug } count }
  }
}"""
Q1 = "{ releases(first: 20) { nodes { slug title publishedOn programmes { slug } offices { slug } } } }"
CATALOGUE = "{ releaseFacets { years { year count } programmes { programme { slug } count } offices { office { slug } count } } }"


def send(url, body):
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            payload = json.load(response)
    except urllib.error.HTTPError as error:
        payload = json.load(error)
    elapsed = time.perf_counter() - started
    return elapsed, payload


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--set", default="bench/queries/search-set.tsv")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1, help="passes before measuring")
    parser.add_argument("--programme")
    parser.add_argument("--office")
    parser.add_argument("--from", dest="date_from")
    parser.add_argument("--to", dest="date_to")
    parser.add_argument("--write-logs", metavar="DIR", help="write the request logs and exit")
    parser.add_argument("--suggestions", action="store_true", help="time searchSuggestions")
    args = parser.parse_args()

    queries = []
    with open(args.set, encoding="utf-8") as lines:
        for line in lines:
            if line.strip() and not line.startswith("#"):
                name, _, text = line.rstrip("\n").partition("\t")
                queries.append((name, text))
    if not queries:
        sys.exit(f"{args.set}: no queries")

    _, catalogue = send(args.url, {"query": CATALOGUE})
    facets = catalogue["data"]["releaseFacets"]
    programme = args.programme or facets["programmes"][0]["programme"]["slug"]
    office = args.office or facets["offices"][0]["office"]["slug"]
    years = sorted(y["year"] for y in facets["years"])
    year = years[-2] if len(years) > 1 else years[-1]
    date_from = args.date_from or f"{year}-01-01"
    date_to = args.date_to or f"{year}-12-31"
    combinations = {
        "alone": {},
        "programme": {"programmes": [programme]},
        "office": {"offices": [office]},
        "dates": {"publishedFrom": date_from, "publishedTo": date_to},
    }
    print(f"combined with programme {programme}, office {office}, dates {date_from}..{date_to}",
          file=sys.stderr)

    if args.write_logs:
        import os
        import random
        os.makedirs(args.write_logs, exist_ok=True)
        bodies = [
            {"query": SEARCH, "variables": {"filter": {"search": text, **extra}}}
            for _, text in queries
            for extra in combinations.values()
        ]
        random.Random(42).shuffle(bodies)
        with open(os.path.join(args.write_logs, "search.jsonl"), "w", encoding="utf-8") as out:
            out.writelines(json.dumps(body) + "\n" for body in bodies)
        with open(os.path.join(args.write_logs, "q1.jsonl"), "w", encoding="utf-8") as out:
            out.write(json.dumps({"query": Q1}) + "\n")
        print(f"{len(bodies)} search requests and Q1 written to {args.write_logs}", file=sys.stderr)
        return

    if args.suggestions:
        suggest = ("query($text: String!, $filter: ReleaseFilter) { searchSuggestions(text: $text, filter: $filter) "
                   "{ words { word text count } programmes { slug } offices { slug } } }")
        words = sorted({w for _, text in queries for w in text.replace('"', " ").split()
                        if w.isalpha() and len(w) >= 3})
        by_length = {}
        failures = 0
        for run in range(args.runs):
            for word in words:
                for end in range(2, len(word) + 1):
                    for extra in ({}, {"programmes": [programme]}, {"offices": [office]}):
                        elapsed, payload = send(args.url, {"query": suggest, "variables": {"text": word[:end], "filter": extra}})
                        if payload.get("errors"):
                            failures += 1
                            continue
                        by_length.setdefault(min(end, 8), []).append(elapsed)
        print("| letters typed | requests | p50 ms | p95 ms |")
        print("|--:|--:|--:|--:|")
        everything = []
        for length in sorted(by_length):
            values = by_length[length]
            everything += values
            label = f"{length}+" if length == 8 else str(length)
            print(f"| {label} | {len(values)} | {percentile(values, 0.5) * 1000:.1f} | {percentile(values, 0.95) * 1000:.1f} |")
        print(f"| all | {len(everything)} | {percentile(everything, 0.5) * 1000:.1f} | {percentile(everything, 0.95) * 1000:.1f} |")
        if failures:
            sys.exit(f"{failures} suggestion requests answered with errors")
        return

    def one_pass(samples, errors):
        for _ in range(args.repeat):
            elapsed, payload = send(args.url, {"query": Q1})
            samples.setdefault(("q1", ""), []).append(elapsed)
        for name, text in queries:
            for combination, extra in combinations.items():
                body = {"query": SEARCH, "variables": {"filter": {"search": text, **extra}}}
                for _ in range(args.repeat):
                    elapsed, payload = send(args.url, body)
                    if payload.get("errors"):
                        errors.append((name, text, combination, payload["errors"][0].get("message")))
                        break
                    samples.setdefault((name, combination), []).append(elapsed)

    for _ in range(args.warmup):
        one_pass({}, [])
    runs, errors = [], []
    for run in range(args.runs):
        samples = {}
        one_pass(samples, errors)
        runs.append(samples)
        print(f"run {run + 1} of {args.runs} done", file=sys.stderr)

    def figure(key, fraction):
        values = [percentile(run[key], fraction) for run in runs if run.get(key)]
        return statistics.median(values) * 1000 if values else float("nan")

    q1 = figure(("q1", ""), 0.5)
    print(f"| class | with | requests per run | p50 ms | p95 ms | p95 / Q1 p50 |")
    print("|---|---|--:|--:|--:|--:|")
    print(f"| Q1 newest 20 (baseline) | | {len(runs[0].get(('q1', ''), []))} | {q1:.1f} | {figure(('q1', ''), 0.95):.1f} | |")
    seen = []
    for name, _ in queries:
        if name not in seen:
            seen.append(name)
    for name in seen:
        for combination in combinations:
            key = (name, combination)
            count = len(runs[0].get(key, []))
            if not count:
                continue
            p95 = figure(key, 0.95)
            print(f"| {name} | {combination} | {count} | {figure(key, 0.5):.1f} | {p95:.1f} | {p95 / q1:.0f}× |")
    if errors:
        print(f"\n{len(errors)} requests answered with errors, e.g.:")
        for error in errors[:10]:
            print(f"- {error}")


if __name__ == "__main__":
    main()
