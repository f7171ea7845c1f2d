#!/usr/bin/env python3
"""A request log of a frontend's traffic over a loaded archive, deterministic for a seed.

    bench/workload.py --db postgresql://…/archive_1000000 --out /tmp/requests.jsonl \
        [--requests 200000] [--seed 42] [--summary]

Each line of the log is one GraphQL request body (JSON: query, variables, operationName), in
the order a replay sends them. The requests are the explorer's own shapes
(`crates/api/assets/explorer/api.js`), in these shares of the traffic:

| class      | share | what                                                               | distinct |
|------------|------:|--------------------------------------------------------------------|---------:|
| newest     |  10%  | the home page: newest 20                                           |        1 |
| programme  |  12%  | a programme's newest 20                                            |   ~9 + 1 |
| office     |   5%  | an office's newest 20                                              |        4 |
| month      |   8%  | one month of one year, 20 + count                                  |      324 |
| range      |   5%  | a date range (from, to), 20 + count                                |    3,000 |
| deep       |  10%  | the page after a release (a keyset cursor), all or one programme   |   15,000 |
| release    |  30%  | one release by slug, with programmes, offices and 5 related        |   30,000 |
| search     |   8%  | a search for one or two words taken from titles, best match first  |    5,000 |
| facets     |  12%  | the chart's counts: facets of all, a programme, a year             |      ~60 |

Within a class the distinct requests are ranked in a random order fixed by the seed, and a
request of rank r (from 1) is drawn with weight 1 / r (Zipf, exponent 1), so a few requests of
each class are asked often and most rarely, as on a real site. `--summary` prints the number of
distinct requests and the share of the traffic the most popular 1%, 10% and 50% of them take,
which bounds what a response cache can hit.

`--peer-logs PREFIX` also writes the part of the log PostGraphile can answer, twice, line for
line: `PREFIX-ours.jsonl` (the api's requests) and `PREFIX-postgraphile.jsonl` (the same
questions asked of PostGraphile, through its connection filter). PostGraphile has no search,
no facets and no related releases, so searches and facets are left out and a release is asked
without its related releases on both sides; a deep page is the keyset written as a filter
(`publishedOn` before the cursor's day, or on it with a smaller `rowId`), since PostGraphile's
own cursors cannot be made from a release. That is 80% of the log.

Reads the archive with `psql` (on the PATH); standard library otherwise.
"""
import argparse
import bisect
import itertools
import json
import random
import re
import subprocess
import sys
import base64
from base64 import urlsafe_b64encode

RELEASES = """query Releases($filter: ReleaseFilter, $orderBy: ReleaseOrder, $first: Int, $after: String, $searching: Boolean!) {
  releases(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id slug title publishedOn summary highlight @include(if: $searching) programmes { slug name acronym } }
  }
}"""

RELEASE = """query Release($slug: String!) {
  release(slug: $slug) {
    id slug title publishedOn summary imageCredit
    programmes { slug name acronym }
    offices { slug name city }
    related(first: 5) { slug title publishedOn }
  }
}"""

COUNTS = """query Counts($filter: ReleaseFilter) {
  facets: releaseFacets(filter: $filter) {
    total
    months { year month count }
    programmes { programme { slug } count }
    offices { office { slug } count }
  }
}"""

# class: (share of the traffic in per cent, most distinct requests)
CLASSES = {
    "newest": (10, 1),
    "programme": (12, 10),
    "office": (5, 10),
    "month": (8, 400),
    "range": (5, 3000),
    "deep": (10, 15000),
    "release": (30, 30000),
    "search": (8, 5000),
    "facets": (12, 100),
}
STOP_WORDS = set("a an and the of in on for to with by at from as is are was were be its it".split())


def psql(db, sql):
    """Rows of `sql` as lists of strings (tab-separated output of psql)."""
    out = subprocess.run(
        ["psql", db, "-XtAq", "-F", "\t", "-c", sql], check=True, capture_output=True, text=True
    ).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def releases_request(filter_, after=None, search=False):
    variables = {"filter": filter_, "first": 20, "searching": search}
    if search:
        variables["orderBy"] = "RELEVANCE"
    if after:
        variables["after"] = after
    return {"query": RELEASES, "variables": variables, "operationName": "Releases"}


def cursor(published_on, release_id):
    return urlsafe_b64encode(f"{published_on}|{release_id}".encode()).decode().rstrip("=")


def distinct_requests(db, rng):
    """Per class, its distinct requests (as JSON strings), in popularity order."""
    count = int(psql(db, "SELECT count(*) FROM release")[0][0])
    programmes = [row[0] for row in psql(db, "SELECT slug FROM programme ORDER BY slug")]
    offices = [row[0] for row in psql(db, "SELECT slug FROM office ORDER BY slug")]
    months = psql(
        db,
        "SELECT DISTINCT extract(year FROM published_on)::int, extract(month FROM published_on)::int "
        "FROM release ORDER BY 1, 2",
    )
    years = sorted({int(y) for y, _ in months})
    # A sample of releases fixed by the seed and the rows alone (not by the scan order).
    wanted = min(count, CLASSES["release"][1] + CLASSES["deep"][1])
    per_million = min(1_000_000, round(1.5e6 * wanted / max(count, 1)))
    salt = rng.randrange(1 << 30)
    sample = psql(
        db,
        "SELECT id, slug, published_on, title FROM release "
        f"WHERE abs(hashtext(id::text || '{salt}')::bigint) % 1000000 < {per_million} ORDER BY id",
    )
    sample = [row for row in sample if len(row) == 4]
    rng.shuffle(sample)

    classes = {}
    classes["newest"] = [releases_request(None)]
    classes["programme"] = [releases_request({"programmes": [p]}) for p in programmes]
    classes["programme"].append(releases_request({"programmes": programmes[:2]}))
    classes["office"] = [releases_request({"offices": [o]}) for o in offices]
    classes["month"] = [
        releases_request({"year": int(y), "month": int(m)}) for y, m in months
    ]
    ranges = set()
    while len(ranges) < CLASSES["range"][1]:
        year = rng.choice(years)
        start = (year, rng.randint(1, 12), rng.randint(1, 28))
        days = rng.choice([7, 30, 90, 365])
        ranges.add((start, days))
    classes["range"] = []
    for (y, m, d), days in sorted(ranges):
        end_year, end_month = y + (m - 1 + days // 30) // 12, (m - 1 + days // 30) % 12 + 1
        classes["range"].append(
            releases_request(
                {"publishedFrom": f"{y:04}-{m:02}-{d:02}", "publishedTo": f"{end_year:04}-{end_month:02}-{d:02}"}
            )
        )
    # A small archive shares its sample between the two classes in their proportion.
    split = len(sample) * CLASSES["release"][1] // (CLASSES["release"][1] + CLASSES["deep"][1])
    release_rows = sample[: min(split, CLASSES["release"][1])]
    deep_rows = sample[len(release_rows) :][: CLASSES["deep"][1]]
    classes["release"] = [
        {"query": RELEASE, "variables": {"slug": slug}, "operationName": "Release"}
        for _, slug, _, _ in release_rows
    ]
    classes["deep"] = [
        releases_request(
            {"programmes": [rng.choice(programmes)]} if rng.random() < 0.3 else None,
            after=cursor(published_on, release_id),
        )
        for release_id, _, published_on, _ in deep_rows
    ]
    words = sorted(
        {
            word
            for _, _, _, title in sample
            for word in re.findall(r"[a-z]{4,}", title.lower())
            if word not in STOP_WORDS
        }
    )
    searches = set()
    while words and len(searches) < min(CLASSES["search"][1], len(words)):
        text = rng.choice(words)
        if rng.random() < 0.3:
            text += " " + rng.choice(words)
        searches.add(text)
    classes["search"] = [
        releases_request({"search": text}, search=True) for text in sorted(searches)
    ]
    facets = [{"query": COUNTS, "variables": {"filter": None}, "operationName": "Counts"}]
    facets += [
        {"query": COUNTS, "variables": {"filter": {"programmes": [p]}}, "operationName": "Counts"}
        for p in programmes
    ]
    facets += [
        {"query": COUNTS, "variables": {"filter": {"year": y}}, "operationName": "Counts"}
        for y in years
    ]
    classes["facets"] = facets

    ranked = {}
    for name, requests in classes.items():
        bodies = [json.dumps(r, separators=(",", ":")) for r in requests]
        # Popularity order: random for all but the home page, fixed by the seed.
        rng.shuffle(bodies)
        ranked[name] = bodies[: CLASSES[name][1]]
    return ranked


PEER_RELEASES = """query Releases($filter: ReleaseFilter, $first: Int) {
  releases(filter: $filter, first: $first, orderBy: [PUBLISHED_ON_DESC, ROW_ID_DESC]) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id slug title publishedOn summary releaseProgrammes { nodes { programme { slug name acronym } } } }
  }
}"""

PEER_RELEASE = """query Release($slug: String!) {
  releaseBySlug(slug: $slug) {
    id slug title publishedOn summary imageCredit
    releaseProgrammes { nodes { programme { slug name acronym } } }
    releaseOffices { nodes { office { slug name city } } }
  }
}"""

OURS_RELEASE_ALONE = RELEASE.replace("    related(first: 5) { slug title publishedOn }\n", "")


def month_bounds(year, month):
    last = [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30,
            31, 31, 30, 31, 30, 31][month - 1]
    return f"{year:04}-{month:02}-01", f"{year:04}-{month:02}-{last:02}"


def peer_filter(ours, after):
    """PostGraphile's filter for the api's filter `ours` and keyset cursor `after`."""
    clauses = []
    ours = ours or {}
    if ours.get("programmes"):
        clauses.append({"releaseProgrammes": {"some": {"programme": {"slug": {"in": ours["programmes"]}}}}})
    if ours.get("offices"):
        clauses.append({"releaseOffices": {"some": {"office": {"slug": {"in": ours["offices"]}}}}})
    if "year" in ours:
        first, last = (month_bounds(ours["year"], ours["month"]) if "month" in ours
                       else (f"{ours['year']:04}-01-01", f"{ours['year']:04}-12-31"))
        clauses.append({"publishedOn": {"greaterThanOrEqualTo": first, "lessThanOrEqualTo": last}})
    if "publishedFrom" in ours:
        clauses.append({"publishedOn": {"greaterThanOrEqualTo": ours["publishedFrom"],
                                        "lessThanOrEqualTo": ours["publishedTo"]}})
    if after:
        day, release_id = base64.urlsafe_b64decode(after + "=" * (-len(after) % 4)).decode().split("|")
        clauses.append({"or": [{"publishedOn": {"lessThan": day}},
                               {"publishedOn": {"equalTo": day}, "rowId": {"lessThan": release_id}}]})
    return {"and": clauses} if clauses else None


def peer_requests(name, body):
    """(ours, PostGraphile's) for a request of class `name`, or None when PostGraphile cannot
    answer it."""
    request = json.loads(body)
    if name in ("search", "facets"):
        return None
    if name == "release":
        ours = {"query": OURS_RELEASE_ALONE, "variables": request["variables"], "operationName": "Release"}
        peer = {"query": PEER_RELEASE, "variables": request["variables"], "operationName": "Release"}
        return ours, peer
    variables = request["variables"]
    peer_variables = {"first": variables["first"]}
    # The connection filter refuses a null filter: an unfiltered list has none.
    filter_ = peer_filter(variables.get("filter"), variables.get("after"))
    if filter_:
        peer_variables["filter"] = filter_
    peer = {"query": PEER_RELEASES, "operationName": "Releases", "variables": peer_variables}
    return request, peer


def draw(ranked, total, rng):
    """`total` requests: a class by its share, then a request of the class by Zipf."""
    names = [name for name in CLASSES if ranked.get(name)]
    shares = list(itertools.accumulate(CLASSES[name][0] for name in names))
    cumulative = {
        name: list(itertools.accumulate(1.0 / rank for rank in range(1, len(ranked[name]) + 1)))
        for name in names
    }
    log = []
    for _ in range(total):
        name = names[bisect.bisect_right(shares, rng.random() * shares[-1])]
        weights = cumulative[name]
        index = bisect.bisect_right(weights, rng.random() * weights[-1])
        log.append((name, ranked[name][min(index, len(weights) - 1)]))
    return log


def summary(log, ranked):
    counts = {}
    for _, body in log:
        counts[body] = counts.get(body, 0) + 1
    by_count = sorted(counts.values(), reverse=True)
    distinct = sum(len(bodies) for bodies in ranked.values())
    print(f"distinct requests: {distinct:,} (asked at least once in the log: {len(counts):,})")
    print(f"requests in the log: {len(log):,}")
    for top in (0.01, 0.10, 0.50):
        n = max(1, round(top * distinct))
        print(f"share of the traffic taken by the most popular {top:.0%} ({n:,}): {sum(by_count[:n]) / len(log):.1%}")
    print(f"repeats (an upper bound on a cache's hit rate): {1 - len(counts) / len(log):.1%}")
    per_class = {}
    for name, _ in log:
        per_class[name] = per_class.get(name, 0) + 1
    print("| class | share of the log | distinct |")
    print("|---|--:|--:|")
    for name in CLASSES:
        print(f"| {name} | {per_class.get(name, 0) / len(log):.1%} | {len(ranked.get(name, [])):,} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="the loaded archive's PostgreSQL URL")
    parser.add_argument("--out", required=True, help="the log to write (one JSON body per line)")
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--summary", action="store_true")
    parser.add_argument("--peer-logs", metavar="PREFIX",
                        help="also write PREFIX-ours.jsonl and PREFIX-postgraphile.jsonl (see above)")
    args = parser.parse_args()
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    rng = random.Random(args.seed)
    try:
        ranked = distinct_requests(args.db, rng)
    except subprocess.CalledProcessError as error:
        sys.exit(f"cannot read the archive at {args.db}: {error.stderr.strip()}")
    log = draw(ranked, args.requests, rng)
    with open(args.out, "w", encoding="utf-8") as out:
        for _, body in log:
            out.write(body + "\n")
    if args.peer_logs:
        pairs = [pair for pair in (peer_requests(name, body) for name, body in log) if pair]
        for side, index in (("ours", 0), ("postgraphile", 1)):
            with open(f"{args.peer_logs}-{side}.jsonl", "w", encoding="utf-8") as out:
                for pair in pairs:
                    out.write(json.dumps(pair[index], separators=(",", ":")) + "\n")
        print(f"peer logs: {len(pairs):,} of {len(log):,} requests ({len(pairs) / len(log):.0%})")
    if args.summary:
        summary(log, ranked)


if __name__ == "__main__":
    main()
