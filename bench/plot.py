#!/usr/bin/env python3
"""Chart of the peer comparison by archive size, from the runs that compare.sh recorded.

    bench/plot.py [--root PEERS_ROOT] [--out docs/scaling.svg] [--format svg|png]
                  [--queries q1,q2,q3,q4] SIZE [SIZE ...]

For each SIZE it reads PEERS_ROOT/state/SIZE/runs.tsv and keeps the rows of the last
comparison in it (from its last `1 q1 sql` line on: the file is appended to by every run of
compare.sh). Two panels, both with the number of releases on a log scale: the median p50
latency in ms and the median throughput (req/s; transactions/s for SQL), both on log scales
too. One colour per query; the api solid, PostGraphile dashed, SQL (pgbench) dotted.

Needs matplotlib (pip install matplotlib).
"""

import argparse
import csv
import os
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NAMES = {
    "q1": "Q1 newest 20",
    "q2": "Q2 programme in a year",
    "q3": "Q3 deep keyset page",
    "q4": "Q4 release by slug",
    "q5": "Q5 search + facets",
}
TARGETS = {"ours": ("api", "-"), "postgraphile": ("PostGraphile", "--"), "sql": ("SQL (pgbench)", ":")}
COLOURS = {"q1": "tab:blue", "q2": "tab:orange", "q3": "tab:green", "q4": "tab:red", "q5": "tab:purple"}


def last_comparison(path):
    """The rows (round, query, target, rps, p50, p99) of the last comparison in runs.tsv."""
    if not path.is_file():
        raise SystemExit(f"{path} not found: run bench/peers/compare.sh {path.parent.name} first")
    with path.open(newline="") as handle:
        rows = [row for row in csv.reader(handle, delimiter="\t") if len(row) == 6]
    starts = [i for i, row in enumerate(rows) if row[:3] == ["1", "q1", "sql"]]
    if not starts:
        raise SystemExit(f"{path} holds no comparison")
    return rows[starts[-1]:]


def medians(rows):
    """{(query, target): (median req/s, median p50 ms)}."""
    runs = {}
    for _, query, target, rps, p50, _ in rows:
        runs.setdefault((query, target), []).append((float(rps), float(p50)))
    return {key: (statistics.median(r for r, _ in values), statistics.median(p for _, p in values))
            for key, values in runs.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="+", type=int, metavar="SIZE")
    parser.add_argument("--root", default=os.environ.get("PEERS_ROOT", "/tmp/pressroom-peers"))
    parser.add_argument("--out", help="the chart file (default docs/scaling.svg, or .png with --format png)")
    parser.add_argument("--format", choices=["svg", "png"], help="default: from --out's suffix, else svg")
    parser.add_argument("--queries", default="q1,q2,q3,q4", help="comma-separated, of q1–q5")
    args = parser.parse_args()

    fmt = args.format or (Path(args.out).suffix.lstrip(".") if args.out else "svg")
    if fmt not in ("svg", "png"):
        raise SystemExit(f"cannot tell the format of {args.out}: use --format svg or --format png")
    out = Path(args.out) if args.out else REPO / "docs" / f"scaling.{fmt}"
    queries = [q.strip() for q in args.queries.split(",") if q.strip()]
    unknown = [q for q in queries if q not in NAMES]
    if unknown:
        raise SystemExit(f"unknown queries {', '.join(unknown)}: choose among {', '.join(NAMES)}")

    try:
        import matplotlib
    except ImportError:
        raise SystemExit("bench/plot.py needs matplotlib, which is not installed: pip install matplotlib")
    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    sizes = sorted(set(args.sizes))
    figures = {size: medians(last_comparison(Path(args.root) / "state" / str(size) / "runs.tsv"))
               for size in sizes}

    fig, (latency, throughput) = pyplot.subplots(1, 2, figsize=(12, 6))
    for query in queries:
        for target, (_, style) in TARGETS.items():
            points = [(size, figures[size][(query, target)]) for size in sizes if (query, target) in figures[size]]
            if not points:
                continue
            xs = [size for size, _ in points]
            latency.plot(xs, [p50 for _, (_, p50) in points], linestyle=style, marker="o", markersize=3,
                         color=COLOURS[query])
            throughput.plot(xs, [rps for _, (rps, _) in points], linestyle=style, marker="o", markersize=3,
                            color=COLOURS[query])
    for axes, title, label in (
        (latency, "Median p50 latency", "p50 latency (ms, log scale)"),
        (throughput, "Median throughput", "requests/s (transactions/s for SQL; log scale)"),
    ):
        axes.set_title(title)
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xlabel("releases in the archive (log scale)")
        axes.set_ylabel(label)
        axes.set_xticks(sizes, [f"{size:,}" for size in sizes])
        axes.xaxis.set_minor_locator(NullLocator())
        axes.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
        axes.yaxis.set_minor_locator(NullLocator())
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}" if value >= 1 else f"{value:g}"))
        axes.grid(True, which="major", linewidth=0.4, alpha=0.6)
        if len(sizes) == 1:
            axes.set_xlim(sizes[0] / 2, sizes[0] * 2)

    query_handles = [Line2D([], [], color=COLOURS[q], label=NAMES[q]) for q in queries]
    target_handles = [Line2D([], [], color="black", linestyle=style, label=name)
                      for name, style in TARGETS.values()]
    fig.legend(handles=query_handles, loc="lower center", ncol=len(query_handles), frameon=False,
               bbox_to_anchor=(0.5, 0.045))
    fig.legend(handles=target_handles, loc="lower center", ncol=len(target_handles), frameon=False,
               bbox_to_anchor=(0.5, 0.0))
    fig.suptitle("The api, PostGraphile and plain SQL by archive size")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    print(f"{out}: {', '.join(f'{size:,}' for size in sizes)} releases", file=sys.stderr)


if __name__ == "__main__":
    main()
