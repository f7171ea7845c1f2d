#!/usr/bin/env python3
"""Latency of GraphQL queries against a running server: each query is sent sequentially
(after a warm-up), and the median and p99 of the wall-clock round trip are reported.

    bench/latency.py URL QUERY.json [QUERY.json ...] [--requests N] [--warmup N] [--runs R]

Every query must answer HTTP 200 without "errors", or the script stops. With --runs R the whole
set is measured R times, interleaved, and each figure is the median over the runs. The first
query is the baseline: each median is also reported as a multiple of the baseline's median.
Standard library only.
"""
import argparse
import json
import statistics
import sys
import time
import urllib.request


def send(url, body):
    request = urllib.request.Request(
        url, data=body, headers={"content-type": "application/json"}, method="POST"
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request) as response:
        payload = response.read()
        status = response.status
    elapsed = time.perf_counter() - started
    return status, payload, elapsed


def percentile(samples, fraction):
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("queries", nargs="+")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    bodies = {}
    for path in args.queries:
        with open(path, "rb") as handle:
            body = handle.read()
        status, payload, _ = send(args.url, body)
        answer = json.loads(payload)
        if status != 200 or answer.get("errors"):
            sys.exit(f"{path}: HTTP {status}: {payload[:500]!r}")
        bodies[path] = body

    medians = {path: [] for path in bodies}
    p99s = {path: [] for path in bodies}
    for _ in range(args.runs):
        for path, body in bodies.items():
            for _ in range(args.warmup):
                send(args.url, body)
            samples = [send(args.url, body)[2] * 1000 for _ in range(args.requests)]
            medians[path].append(statistics.median(samples))
            p99s[path].append(percentile(samples, 0.99))

    # The first query is the baseline: every median is also given as a multiple of its median.
    baseline = statistics.median(medians[next(iter(bodies))])
    print(f"| query | median ms | p99 ms | × baseline | runs ({args.runs} × {args.requests} requests), medians |")
    print("|---|---:|---:|---:|---|")
    for path in bodies:
        name = path.rsplit("/", 1)[-1].removesuffix(".json")
        median = statistics.median(medians[path])
        runs = ", ".join(f"{m:.2f}" for m in medians[path])
        print(f"| {name} | {median:.2f} | {statistics.median(p99s[path]):.2f} | {median / baseline:.1f} | {runs} |")


if __name__ == "__main__":
    main()
