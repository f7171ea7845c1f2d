#!/usr/bin/env python3
"""Chart of a soak run, minute by minute, from bench/soak.py's minutes.tsv.

    bench/soak_chart.py RESULTS/minutes.tsv [--out docs/soak.svg]

Four panels over the minutes of the run: latency (p50 and p99, ms, log scale), the api's RSS
(MB), its open file descriptors and database connections (the pool's, and the database's
backends as PostgreSQL counts them), and the response cache's entries. Needs matplotlib.
"""
import argparse
import csv


def number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("minutes")
    parser.add_argument("--out", default="docs/soak.svg")
    args = parser.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(args.minutes, newline="") as source:
        rows = list(csv.DictReader(source, delimiter="\t"))
    # The first minute's sample is taken at the start, before any request: keep it for the
    # gauges, drop it from the latencies only when it holds no request.
    x = [int(row["minute"]) for row in rows]

    def series(name, scale=1.0):
        return [None if number(row[name]) is None else number(row[name]) * scale for row in rows]

    figure, axes = plt.subplots(4, 1, figsize=(8, 10), sharex=True)
    latency, memory, handles, cache = axes
    latency.plot(x, series("p50_ms"), label="p50")
    latency.plot(x, series("p99_ms"), label="p99")
    latency.set_yscale("log")
    latency.set_ylabel("latency, ms")
    latency.legend(loc="upper right")
    memory.plot(x, series("rss_mb"), color="tab:red")
    memory.set_ylabel("api RSS, MB")
    memory.set_ylim(bottom=0)
    handles.plot(x, series("fds"), label="api file descriptors")
    pool = [
        None if a is None or b is None else a + b
        for a, b in zip(series("pool_in_use"), series("pool_idle"))
    ]
    handles.plot(x, pool, label="api pool connections")
    handles.plot(x, series("db_backends"), label="database backends")
    handles.plot(x, series("http_connections"), label="HTTP connections", linestyle=":")
    handles.set_ylabel("count")
    handles.set_ylim(bottom=0)
    handles.legend(loc="upper right", fontsize="small")
    cache.plot(x, series("cache_entries"), color="tab:purple")
    cache.set_ylabel("cached answers")
    cache.set_ylim(bottom=0)
    cache.set_xlabel("minute of the run (an ingest at the start of each)")
    figure.suptitle("Soak: request log replayed at a steady rate, ingest every minute")
    figure.tight_layout()
    figure.savefig(args.out, metadata={"Date": None} if args.out.endswith(".svg") else None)


if __name__ == "__main__":
    main()
