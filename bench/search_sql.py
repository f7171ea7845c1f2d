#!/usr/bin/env python3
"""What PostgreSQL's own full-text engines take to answer a search page, in SQL only.

    bench/search_sql.py DATABASE_URL --engine gin|rum [--set bench/queries/search-set.tsv]
                        [--runs 3] [--setup] [--tuned] [--typed-prefix class|all]
                        [--programme SLUG] [--office SLUG] [--from DATE --to DATE]
                        [--planner-pages] [--write-counts FILE] [--explain]

For comparison with the archive's embedded search index. For every query of the search set
(`class<TAB>text` lines, `#` comments) and every combination `bench/search_bench.py` sends (the
query alone; with the programme with the most releases; with the office with the most releases;
with the last full year of the archive as a date range; each overridable as in search_bench.py),
one connection runs, one after the other, the statements of a search page and the sum of their
wall times (`time.perf_counter()`, rows fetched) is one sample:

1. page: `id, title, published_on` of 21 matches (a page of 20 and whether there is more), ranked;
2. count: the exact number of matches;
3. years, 4. months (year, month): matches per period under every criterion (the date range is
   not theirs: the api only leaves out `year`/`month`, which this page does not set);
5. programmes: matches per programme, under the office and the dates but not the programme;
6. offices: matches per office, under the programme and the dates but not the office.

Criteria are written as the api writes them (crates/api/src/store): `search_vector @@ q`, a
tag as `release.id IN (SELECT release_id FROM release_programme WHERE programme_id = …)`, dates as
`published_on BETWEEN …`. q is `websearch_to_tsquery('english', text)`. For the prefix class (the
last word still being typed) it is what `crates/api/src/store/dialect.rs` (`tsquery`) builds:
`websearch_to_tsquery('english', text) || to_tsquery('simple', '''word'':*')`, the word being
typed as a prefix, unstemmed (`simple`), OR'ed with the whole text (with `(rest && prefix)` when
other words precede it). `--typed-prefix all` applies that to every query ending in a plain word,
as the api does; the default (`class`) only to the prefix class.

Engines:

- `gin`: the GIN index `release_search_vector` of the migrations on the stored `tsvector`
  (title weight A, summary B, `english`); the page is
  `ORDER BY ts_rank(search_vector, q) DESC, published_on DESC, id DESC LIMIT 21`, i.e. a bitmap
  of all matches, every match's rank computed from the heap, a top-N sort.
- `rum`: a RUM index `release_search_rum ON release USING rum (search_vector rum_tsvector_ops)`
  (extension `rum`, Debian postgresql-15-rum); the page takes the 21 nearest by RUM's distance
  inside the index (`ORDER BY search_vector <=> q LIMIT 21`, an Index Scan with `Order By`) and
  only then sorts those 21 by (distance, published_on DESC, id DESC). The tie-breakers cannot go
  into the ORDER BY that the index serves: PostgreSQL uses an ordering operator of an index only
  when it is the whole ORDER BY, and with the extra keys the planner drops the RUM scan for the
  GIN bitmap and a full sort. So which of several releases of equal distance around the 21st
  make the page is the index's choice, not the newest's; and RUM's distance is its own
  formula, not `ts_rank`, so the order differs from the gin engine's (the set of matches and the
  counts do not; `--write-counts` writes them for a diff). The count and the facets are the same
  SQL in both engines: the planner picks the index for them (usually a bitmap of the GIN index,
  which stays: the api needs it). Left to itself, the planner also prefers the GIN bitmap and a
  sort for many pages (114 of 240 at 20,000 releases: rare words, and most pages under a
  programme or the dates), so the rum page runs with `SET enable_bitmapscan = off` before it and
  `RESET enable_bitmapscan` after it, pipelined with it in one round trip and timed with it
  (`--planner-pages` leaves the planner free). Every page of the run is EXPLAINed (not timed)
  during the warm-up, and the output says how many pages were not planned on the engine's index
  (for rum: without `Order By: (search_vector <=> …)` on `release_search_rum`; at 20,000
  releases 1 of 240, the prefix "pract" in the date range, read by date and sorted). The gin
  engine refuses to run while `release_search_rum` exists: the planner takes the RUM index's
  bitmap for some GIN pages (the prefixes).

`--setup` (timed, with the index size from `pg_relation_size`): for `rum`,
`CREATE EXTENSION IF NOT EXISTS rum` and the index if it is missing (~0.6 s and 6.7 MB at 20,000
releases, the size of the GIN index). For `gin` with `--tuned`: `ALTER INDEX
release_search_vector SET (fastupdate = off)` and `VACUUM ANALYZE release`, which flushes the
pending list (with fastupdate on, rows written since the last vacuum sit in an unsorted list that
every search scans). Undo with `DROP INDEX release_search_rum` and `ALTER INDEX
release_search_vector RESET (fastupdate)`. With `--runs 0` the script stops after the setup and
the warm-up's plan check.

Not chosen: a composite GIN index `(search_vector, published_on)` with `btree_gin` for the date
range. At 20,000 releases the planner already ANDs the GIN bitmap with the btree
`release_published_on_id` bitmap (count of a frequent word in one year: 1.2 ms); the composite
index was chosen when present and was slower (2.6 ms; a rare word 1.3 ms against 0.08 ms), since
btree_gin keeps one posting list per distinct date and a year's range reads ~365 of them.

`--tuned` sets per session what a tuning operator would, `SET work_mem = '64MB'` and
`SET jit = off`; without it the server's defaults run (here work_mem 4MB, jit on). work_mem:
a bitmap heap scan keeps one entry per heap page exactly while it fits in work_mem (~85 bytes a
page: ~50,000 pages at 4MB) and goes lossy beyond, re-checking `@@` on every row of a lossy page.
At 20,000 releases the table has ~2,330 pages and no plan shows `Heap Blocks: lossy` at 4MB;
with `SET work_mem = '64kB'` (and seq scans off) counting "social" shows `Heap Blocks:
exact=772 lossy=1548` and `Rows Removed by Index Recheck: 7184`, and the planner, which foresees
it, prefers a seq scan. At 1,000,000 releases (~116,000 pages, a frequent word on nearly every
page) the same happens at 4MB for the frequent words: run `--explain` there to see it. jit: a
frequent word's count and facet plans cost ~2,600 at 20,000 releases, so ~130,000 at 1,000,000,
above `jit_above_cost` (100,000); compiling them took ~9 ms per statement here (at 20,000 with
`jit_above_cost = 0`), spent again on every statement since nothing caches it.

The run: one warm-up pass (also the plan check), then `--runs` passes. Prints a markdown table
per class and combination: page-answers timed per pass, timeouts, p50 and p95 of the total in ms
(each the median over the passes of that pass's percentile, as search_bench.py does); then, for
the class whose worst p95 is highest, the median of each statement per combination (where the
time goes), and the overall worst p95. `--explain` prints `EXPLAIN (ANALYZE, BUFFERS)` of the six
statements for the set's first query under each combination, and exits.

Every statement has a 60 s `statement_timeout`; a page-answer with a statement cancelled is
counted as a timeout, not timed. Queries are sent with bound parameters as unnamed statements
(psycopg's `prepare_threshold=None`), so each is planned with its own text, as a custom plan
(the function calls on constants fold into a constant tsquery), in autocommit.

Caveats: SQL only, measured at the client next to the server: no HTTP, no GraphQL, no JSON,
no connection pool, no highlights, no programmes and offices of each release on the page, and
the api answers differently (with a search, its facets come from the embedded index's matches,
and it counts days, not years and months); the api adds its own overhead on top of these
figures. One client, one statement at a time: latency, not throughput. A warm cache after
the warm-up pass.

Needs psycopg 3 (`pip install 'psycopg[binary]'`); standard library otherwise.
"""
import argparse
import datetime
import re
import statistics
import sys
import time

try:
    import psycopg
    from psycopg import errors
except ImportError:
    sys.exit("needs psycopg 3: pip install 'psycopg[binary]'")

STATEMENTS = ("page", "count", "years", "months", "programmes", "offices")
PREFIX_CLASSES = ("prefix", "prefixes")
TUNED = ("SET work_mem = '64MB'", "SET jit = off")
TIMEOUT = "SET statement_timeout = '60s'"
PLAIN_WORD = re.compile(r"[A-Za-z0-9]+")


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def tsquery(name, text, typed_prefix):
    """The tsquery SQL of a search text, and its parameters."""
    params = {"text": text}
    whole = "websearch_to_tsquery('english', %(text)s)"
    words = text.split()
    if (typed_prefix == "all" or name in PREFIX_CLASSES) and words and PLAIN_WORD.fullmatch(words[-1]):
        params["prefix"] = f"'{words[-1].lower()}':*"
        prefix = "to_tsquery('simple', %(prefix)s)"
        if len(words) > 1:
            params["rest"] = " ".join(words[:-1])
            prefix = f"(websearch_to_tsquery('english', %(rest)s) && {prefix})"
        return f"({whole} || {prefix})", params
    return whole, params


def criteria(q, programme=None, office=None, dates=None, alias="release"):
    """The WHERE clause of the matches under the given criteria, as the api writes it."""
    date_range = "published_on BETWEEN %(date_from)s AND %(date_to)s"
    parts = [f"{alias}.search_vector @@ {q}"]
    if dates:
        parts.append(f"{alias}.{date_range}")
    for table, column, key, wanted in (("release_programme", "programme_id", "programme", programme),
                                       ("release_office", "office_id", "office", office)):
        if wanted:
            extra = f" AND {table}.{date_range}" if dates else ""
            parts.append(f"{alias}.id IN (SELECT {table}.release_id FROM {table} "
                         f"WHERE {table}.{column} = %({key})s{extra})")
    return " AND ".join(parts)


def statements(engine, q, combination):
    """The six statements of a search page: (name, sql), in order."""
    programme = combination.get("programme")
    office = combination.get("office")
    dates = combination.get("dates")
    where = criteria(q, programme, office, dates)
    if engine == "gin":
        page = (f"SELECT id, title, published_on FROM release WHERE {where} "
                f"ORDER BY ts_rank(search_vector, {q}) DESC, published_on DESC, id DESC LIMIT 21")
    else:
        page = (f"SELECT id, title, published_on FROM (SELECT id, title, published_on, "
                f"search_vector <=> {q} AS distance FROM release WHERE {where} "
                f"ORDER BY search_vector <=> {q} LIMIT 21) AS nearest "
                f"ORDER BY distance, published_on DESC, id DESC")
    year = "extract(year FROM published_on)::int"
    month = "extract(month FROM published_on)::int"

    def per_tag(tag, where_others):
        table, column = f"release_{tag}", f"{tag}_id"
        return (f"SELECT {tag}.slug, counted.n FROM {tag} JOIN (SELECT {table}.{column} AS id, "
                f"count({table}.release_id) AS n FROM {table} WHERE {table}.release_id IN "
                f"(SELECT release.id FROM release WHERE {where_others}) GROUP BY {table}.{column}) "
                f"AS counted ON counted.id = {tag}.id ORDER BY counted.n DESC, {tag}.name, {tag}.slug")

    return [
        ("page", page),
        ("count", f"SELECT count(*) FROM release WHERE {where}"),
        ("years", f"SELECT {year}, count(*) FROM release WHERE {where} GROUP BY 1 ORDER BY 1"),
        ("months", f"SELECT {year}, {month}, count(*) FROM release WHERE {where} "
                   f"GROUP BY 1, 2 ORDER BY 1, 2"),
        ("programmes", per_tag("programme", criteria(q, None, office, dates))),
        ("offices", per_tag("office", criteria(q, programme, None, dates))),
    ]


def scalar(conn, sql, params=None):
    row = conn.execute(sql, params).fetchone()
    return row[0] if row else None


def setup(conn, engine, tuned):
    started = time.perf_counter()
    if engine == "rum":
        conn.execute("CREATE EXTENSION IF NOT EXISTS rum")
        if scalar(conn, "SELECT to_regclass('release_search_rum')") is None:
            conn.execute("CREATE INDEX release_search_rum ON release USING rum (search_vector rum_tsvector_ops)")
            done = "extension rum, index release_search_rum created"
        else:
            done = "extension rum, index release_search_rum already there"
    elif tuned:
        conn.execute("ALTER INDEX release_search_vector SET (fastupdate = off)")
        conn.execute("VACUUM ANALYZE release")
        done = "release_search_vector: fastupdate off, VACUUM ANALYZE release"
    else:
        done = "nothing to do (the migrations' GIN index, untuned)"
    elapsed = time.perf_counter() - started
    index = "release_search_rum" if engine == "rum" else "release_search_vector"
    size = scalar(conn, "SELECT pg_relation_size(%s::regclass)", (index,))
    print(f"setup: {done} in {elapsed:.1f} s; {index} is {size / 2**20:.1f} MiB", file=sys.stderr)


def combinations_of(conn, args):
    programme = args.programme or scalar(
        conn, "SELECT p.slug FROM release_programme rp JOIN programme p ON p.id = rp.programme_id "
              "GROUP BY p.id ORDER BY count(*) DESC, p.name, p.slug LIMIT 1")
    office = args.office or scalar(
        conn, "SELECT o.slug FROM release_office ro JOIN office o ON o.id = ro.office_id "
              "GROUP BY o.id ORDER BY count(*) DESC, o.name, o.slug LIMIT 1")
    first, last = conn.execute("SELECT min(published_on), max(published_on) FROM release").fetchone()
    year = last.year - 1 if first.year < last.year else last.year
    date_from = datetime.date.fromisoformat(args.date_from) if args.date_from else datetime.date(year, 1, 1)
    date_to = datetime.date.fromisoformat(args.date_to) if args.date_to else datetime.date(year, 12, 31)
    programme_id = scalar(conn, "SELECT id FROM programme WHERE slug = %s", (programme,))
    office_id = scalar(conn, "SELECT id FROM office WHERE slug = %s", (office,))
    if programme_id is None or office_id is None:
        sys.exit(f"no programme {programme!r} or no office {office!r}")
    dates = {"date_from": date_from, "date_to": date_to}
    print(f"combined with programme {programme}, office {office}, dates {date_from}..{date_to}",
          file=sys.stderr)
    return {
        "alone": ({}, {}),
        "programme": ({"programme": True}, {"programme": programme_id}),
        "office": ({"office": True}, {"office": office_id}),
        "dates": ({"dates": True}, dates),
    }


def uses_engine(engine, plan):
    if engine == "rum":
        return "release_search_rum" in plan and "Order By: (search_vector <=>" in plan
    return "release_search_vector" in plan


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database_url")
    parser.add_argument("--engine", choices=("gin", "rum"), required=True)
    parser.add_argument("--set", default="bench/queries/search-set.tsv")
    parser.add_argument("--runs", type=int, default=3, help="timed passes after one warm-up pass")
    parser.add_argument("--setup", action="store_true", help="prepare the engine first (see above)")
    parser.add_argument("--tuned", action="store_true", help="work_mem 64MB, jit off (and --setup tuning)")
    parser.add_argument("--typed-prefix", choices=("class", "all"), default="class",
                        help="the last word as a prefix: only for the prefix class, or as the api does")
    parser.add_argument("--programme")
    parser.add_argument("--office")
    parser.add_argument("--from", dest="date_from")
    parser.add_argument("--to", dest="date_to")
    parser.add_argument("--planner-pages", action="store_true",
                        help="rum: leave bitmap scans on for the page (the planner often picks GIN)")
    parser.add_argument("--write-counts", metavar="FILE", help="write class, text, combination, count")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the first query and exit")
    args = parser.parse_args()

    queries = []
    with open(args.set, encoding="utf-8") as lines:
        for line in lines:
            if line.strip() and not line.startswith("#"):
                name, _, text = line.rstrip("\n").partition("\t")
                queries.append((name, text))
    if not queries:
        sys.exit(f"{args.set}: no queries")

    conn = psycopg.connect(args.database_url, autocommit=True, prepare_threshold=None)
    if args.setup:
        setup(conn, args.engine, args.tuned)
    has_rum = scalar(conn, "SELECT to_regclass('release_search_rum')") is not None
    if args.engine == "rum" and not has_rum:
        sys.exit("no index release_search_rum: run with --setup")
    if args.engine == "gin" and has_rum:
        sys.exit("release_search_rum exists, and the planner takes it for some gin pages (prefixes): "
                 "DROP INDEX release_search_rum to measure gin (--engine rum --setup rebuilds it)")
    conn.execute(TIMEOUT)
    if args.tuned:
        for setting in TUNED:
            conn.execute(setting)
    settings = {name: scalar(conn, f"SHOW {name}") for name in ("work_mem", "jit", "max_parallel_workers_per_gather")}
    combinations = combinations_of(conn, args)

    # (class, text, combination) -> [(statement name, sql)], and the parameters.
    work = []
    for name, text in queries:
        q, q_params = tsquery(name, text, args.typed_prefix)
        for combination, (flags, params) in combinations.items():
            work.append(((name, text, combination), statements(args.engine, q, flags), {**q_params, **params}))

    force = args.engine == "rum" and not args.planner_pages

    def run_page(sql, params):
        """The page's rows; for rum, with bitmap scans off for this statement only (one round trip)."""
        if not force:
            return conn.execute(sql, params).fetchall()
        with conn.pipeline():
            conn.execute("SET enable_bitmapscan = off")
            cursor = conn.execute(sql, params)
            conn.execute("RESET enable_bitmapscan")
        return cursor.fetchall()

    if args.explain:
        name, text = queries[0]
        for key, sqls, params in work:
            if key[:2] != (name, text):
                continue
            for statement, sql in sqls:
                print(f"### {args.engine}: {statement} of {text!r}, {key[2]}\n")
                explain = f"EXPLAIN (ANALYZE, BUFFERS) {sql}"
                plan = run_page(explain, params) if statement == "page" else conn.execute(explain, params).fetchall()
                print("```\n" + "\n".join(row[0] for row in plan) + "\n```\n")
        return

    # Warm-up pass, with the plan check of every page.
    off_engine = []
    for key, sqls, params in work:
        plan = "\n".join(row[0] for row in run_page(f"EXPLAIN (COSTS OFF) {sqls[0][1]}", params))
        if not uses_engine(args.engine, plan):
            off_engine.append(key)
    counts, mismatches = {}, []

    def one_pass(samples, timeouts):
        for key, sqls, params in work:
            times = []
            try:
                for statement, sql in sqls:
                    started = time.perf_counter()
                    if statement == "page":
                        rows = run_page(sql, params)
                    else:
                        rows = conn.execute(sql, params).fetchall()
                    times.append(time.perf_counter() - started)
                    if statement == "count":
                        counts[key] = rows[0][0]
                    elif statement == "years" and sum(row[1] for row in rows) != counts[key]:
                        mismatches.append(key)
            except errors.QueryCanceled:
                if force:
                    conn.execute("RESET enable_bitmapscan")
                timeouts[key[0], key[2]] = timeouts.get((key[0], key[2]), 0) + 1
                continue
            samples.setdefault((key[0], key[2]), []).append(times)

    one_pass({}, {})
    print(f"warm-up done; {len(work) - len(off_engine)} of {len(work)} pages planned on the "
          f"{args.engine} index", file=sys.stderr)
    runs, timeouts = [], {}
    for run in range(args.runs):
        samples = {}
        one_pass(samples, timeouts)
        runs.append(samples)
        print(f"run {run + 1} of {args.runs} done", file=sys.stderr)

    if args.write_counts:
        with open(args.write_counts, "w", encoding="utf-8") as out:
            for (name, text, combination), count in counts.items():
                out.write(f"{name}\t{text}\t{combination}\t{count}\n")
    if not runs:
        return

    def figure(key, fraction):
        values = [percentile([sum(t) for t in run[key]], fraction) for run in runs if run.get(key)]
        return statistics.median(values) * 1000 if values else float("nan")

    classes = list(dict.fromkeys(name for name, _ in queries))
    index = "release_search_rum" if args.engine == "rum" else "release_search_vector"
    size = scalar(conn, "SELECT pg_relation_size(%s::regclass)", (index,))
    releases = scalar(conn, "SELECT reltuples::bigint FROM pg_class WHERE relname = 'release'")
    print(f"engine {args.engine}{' tuned' if args.tuned else ''} "
          f"({', '.join(f'{k} {v}' for k, v in settings.items())}), ~{releases} releases, "
          f"{index} {size / 2**20:.1f} MiB, {args.runs} runs after 1 warm-up\n")
    print("| class | with | timed per run | timeouts | p50 ms | p95 ms |")
    print("|---|---|--:|--:|--:|--:|")
    p95s = {}
    for name in classes:
        for combination in combinations:
            key = (name, combination)
            timed = len(runs[0].get(key, []))
            if not timed and not timeouts.get(key):
                continue
            p95s[key] = figure(key, 0.95)
            print(f"| {name} | {combination} | {timed} | {timeouts.get(key, 0)} | "
                  f"{figure(key, 0.5):.1f} | {p95s[key]:.1f} |")

    timed_p95s = {key: value for key, value in p95s.items() if value == value}
    if timed_p95s:
        worst_class = max(classes, key=lambda name: max(
            (timed_p95s.get((name, c), -1) for c in combinations), default=-1))
        print(f"\nMedian ms per statement, class {worst_class}:\n")
        print("| with | " + " | ".join(STATEMENTS) + " |")
        print("|---|" + "--:|" * len(STATEMENTS))
        for combination in combinations:
            pooled = [times for run in runs for times in run.get((worst_class, combination), [])]
            if pooled:
                medians = [statistics.median(t[i] for t in pooled) * 1000 for i in range(len(STATEMENTS))]
                print(f"| {combination} | " + " | ".join(f"{m:.1f}" for m in medians) + " |")
        worst = max(timed_p95s, key=timed_p95s.get)
        print(f"\nWorst p95: {timed_p95s[worst]:.1f} ms ({worst[0]}, {worst[1]})")
    if timeouts:
        print(f"Timeouts (60 s): {sum(timeouts.values())} page-answers")
    if off_engine:
        print(f"\n{len(off_engine)} of {len(work)} pages not planned on {index}"
              f"{' with Order By <=>' if args.engine == 'rum' else ''}, e.g. "
              + ", ".join(f"{t!r} {c}" for _, t, c in off_engine[:5]))
    if mismatches:
        print(f"\n{len(mismatches)} answers whose year counts do not add up to the count, e.g. {mismatches[:3]}")


if __name__ == "__main__":
    main()
