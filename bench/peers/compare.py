#!/usr/bin/env python3
"""The data side of compare.sh: request bodies, the correctness check, the load runs, the table.

  compare.py prepare --db URL --ours URL --postgraphile URL --state DIR
      picks Q2's programme and range, Q3's keyset position, Q4's slug and Q5's search word,
      and writes the GraphQL bodies and pgbench variables under DIR.
  compare.py check --db URL --ours URL --postgraphile URL --state DIR
      runs each query once on each target and fails unless all of them answer the same rows.
  compare.py run --db URL --ours URL --postgraphile URL --state DIR [--runs 3 --seconds 5 ...]
      wrk and pgbench -M prepared, interleaved by run; prints a markdown table of the medians
      and, with --api-pid, the api's resident memory idle and under the Q1 load.

`--postgraphile none` leaves PostGraphile out of every step (its columns show n/a), and
`--ours none` leaves the api out of `run` (no wrk). PostGraphile has no full-text search, so
Q5 is never sent to it. Standard library only; psql, pgbench and wrk must be on PATH.
"""

import argparse
import base64
import csv
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUERIES = ["q1", "q2", "q3", "q4", "q5"]
TARGETS = ["sql", "ours", "postgraphile"]
DESCRIPTIONS = {
    "q1": "Q1 newest 20, with programmes and offices",
    "q2": "Q2 one programme in a year, 20 + totalCount",
    "q3": "Q3 page of 20 deep in the archive (keyset)",
    "q4": "Q4 release by slug",
    "q5": "Q5 search, 20 + totalCount + facets",
}
# Queries PostGraphile cannot answer: it has no full-text search.
WITHOUT_POSTGRAPHILE = {"q5"}
# Q2: a programme with releases in every year of the generated corpus, over one year.
Q2_PROGRAMME = "score"
Q2_FROM, Q2_TO = "2015-01-01", "2015-12-31"
# Q5: a word of the generator's vocabulary found in about one release in seven at any size
# (1,410 of 10,000; 13,454 of 100,000), three times in four in the title ("Training Workshop …").
Q5_SEARCH = "workshop"


def psql(db, sql, variables=None):
    """Rows of the last result set of `sql` (a file path or text) as lists of strings."""
    args = ["psql", db, "-X", "-q", "--csv", "-v", "ON_ERROR_STOP=1"]
    for name, value in (variables or {}).items():
        args += ["-v", f"{name}='{value}'"]
    if isinstance(sql, Path):
        args += ["-f", str(sql)]
    else:
        args += ["-c", sql]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return list(csv.reader(io.StringIO(out)))


def psql_results(db, path, variables):
    """Every result set of the script at `path`, as (header, rows) pairs."""
    rows = psql(db, path, variables)
    headers = {"slug", "total_count", "year", "programme", "office"}
    results = []
    for row in rows:
        if row and row[0] in headers:
            results.append((row, []))
        else:
            results[-1][1].append(row)
    return results


def post(url, body):
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", "accept": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.load(response)
    if answer.get("errors"):
        raise SystemExit(f"{url}: {json.dumps(answer['errors'])[:800]}")
    return answer["data"]


def targets_of(args, query):
    """The targets that take part in `query`: SQL always, the servers unless left out."""
    urls = {"sql": args.db, "ours": args.ours, "postgraphile": args.postgraphile}
    return [t for t in TARGETS if urls[t] != "none"
            and not (t == "postgraphile" and query in WITHOUT_POSTGRAPHILE)]


def body_of(target, query, variables):
    text = (HERE / "queries" / target / f"{query}.graphql").read_text()
    text = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    names = set(re.findall(r"\$(\w+)\s*:", text))
    return {"query": text, "variables": {k: v for k, v in variables.items() if k in names}}


def prepare(args):
    state = Path(args.state)
    (state / "bodies").mkdir(parents=True, exist_ok=True)
    (total,) = psql(args.db, "select count(*) from release")[1]
    total = int(total)
    # Q3 starts right after the release at the middle of the archive, newest first.
    offset = total // 2
    date, release_id, slug = psql(
        args.db,
        "select published_on, id, slug from release "
        f"order by published_on desc, id desc offset {offset - 1} limit 1",
    )[1]
    # Q4: a release from the same depth that has at least one programme.
    (q4_slug,) = psql(
        args.db,
        "select r.slug from release r where exists (select 1 from release_programme rp "
        f"where rp.release_id = r.id) and r.published_on <= '{date}' "
        "order by r.published_on desc, r.id desc limit 1",
    )[1]
    ours_cursor = base64.urlsafe_b64encode(f"{date}|{release_id}".encode()).decode().rstrip("=")
    afters = {"ours": ours_cursor}
    if args.postgraphile != "none":
        cursor = post(args.postgraphile, body_of("postgraphile", "cursor", {"offset": offset - 1}))
        edge = cursor["releases"]["edges"][0]
        if edge["node"]["slug"] != slug:
            raise SystemExit(f"PostGraphile's release at offset {offset - 1} is {edge['node']['slug']}, SQL's is {slug}")
        afters["postgraphile"] = edge["cursor"]
    q5 = psql_results(args.db, HERE / "queries" / "sql" / "q5.sql", {"search": Q5_SEARCH})
    ((matches,),) = q5[1][1]
    params = {
        "releases": total,
        "programme": Q2_PROGRAMME,
        "from": Q2_FROM,
        "to": Q2_TO,
        "after_date": date,
        "after_id": release_id,
        "slug": q4_slug,
        "search": Q5_SEARCH,
        "search_matches": int(matches),
        "ours_after": ours_cursor,
        "postgraphile_after": afters.get("postgraphile"),
    }
    (state / "params.json").write_text(json.dumps(params, indent=2) + "\n")
    for query in QUERIES:
        for target in targets_of(args, query):
            if target != "sql":
                body = body_of(target, query, {**params, "after": afters[target]})
                (state / "bodies" / f"{target}-{query}.json").write_text(json.dumps(body))
    print(f"{total} releases; Q3 after position {offset} ({date}); Q4 slug {q4_slug}; "
          f"Q5 search {Q5_SEARCH!r} matches {matches} ({100 * int(matches) / total:.1f}%)", file=sys.stderr)


def sql_variables(params, query):
    text = (HERE / "queries" / "sql" / f"{query}.sql").read_text()
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    names = set(re.findall(r"(?<!:):(\w+)", code))
    return {name: params[name] for name in names}


def tags(items, key):
    return sorted(item[key] for item in items or [])


def canonical(target, query, answer):
    """What must agree between the three targets, in a shape common to all."""
    if target == "sql":
        results = answer
        if query in ("q1", "q4"):
            header, rows = results[0]
            nodes = []
            for row in rows:
                record = dict(zip(header, row))
                nodes.append({
                    "slug": record["slug"], "title": record["title"],
                    "publishedOn": record["published_on"],
                    "programmes": tags(json.loads(record["programmes"] or "null"), "slug"),
                    "offices": tags(json.loads(record["offices"] or "null"), "slug"),
                    **({"summary": record["summary"] or None, "imageCredit": record["image_credit"] or None}
                       if query == "q4" else {}),
                })
            return nodes if query == "q1" else nodes[0]
        header, rows = results[0]
        nodes = [{"slug": r[0], "title": r[1], "publishedOn": r[2]} for r in rows]
        if query == "q2":
            return {"totalCount": int(results[1][1][0][0]), "nodes": nodes}
        if query == "q5":
            total = int(results[1][1][0][0])
            (_, years), (_, programmes), (_, offices) = results[2:]
            return {"totalCount": total, "nodes": nodes, "facets": {
                "total": total,
                "years": [[int(year), int(count)] for year, count in years],
                "programmes": [[slug, int(count)] for slug, count in programmes],
                "offices": [[slug, int(count)] for slug, count in offices],
            }}
        return {"nodes": nodes[:20], "hasNextPage": len(nodes) > 20}

    if target == "ours":
        if query == "q5":
            conn, facets = answer["releases"], answer["releaseFacets"]
            return {"totalCount": conn["totalCount"],
                    "nodes": [{k: n[k] for k in ("slug", "title", "publishedOn")} for n in conn["nodes"]],
                    "facets": {
                        "total": facets["total"],
                        "years": [[y["year"], y["count"]] for y in facets["years"]],
                        "programmes": [[p["programme"]["slug"], p["count"]] for p in facets["programmes"]],
                        "offices": [[o["office"]["slug"], o["count"]] for o in facets["offices"]],
                    }}
        if query == "q4":
            r = answer["release"]
            return {**{k: r[k] for k in ("slug", "title", "publishedOn", "summary", "imageCredit")},
                    "programmes": tags(r["programmes"], "slug"), "offices": tags(r["offices"], "slug")}
        conn = answer["releases"]
    else:
        if query == "q4":
            r = answer["releaseBySlug"]
            return {**{k: r[k] for k in ("slug", "title", "publishedOn", "summary", "imageCredit")},
                    "programmes": tags([n["programme"] for n in r["releaseProgrammes"]["nodes"]], "slug"),
                    "offices": tags([n["office"] for n in r["releaseOffices"]["nodes"]], "slug")}
        conn = answer["releases"]
    if query == "q1":
        out = []
        for n in conn["nodes"]:
            if target == "ours":
                programmes, offices = n["programmes"], n["offices"]
            else:
                programmes = [x["programme"] for x in n["releaseProgrammes"]["nodes"]]
                offices = [x["office"] for x in n["releaseOffices"]["nodes"]]
            out.append({"slug": n["slug"], "title": n["title"], "publishedOn": n["publishedOn"],
                        "programmes": tags(programmes, "slug"), "offices": tags(offices, "slug")})
        return out
    nodes = [{k: n[k] for k in ("slug", "title", "publishedOn")} for n in conn["nodes"]]
    if query == "q2":
        return {"totalCount": conn["totalCount"], "nodes": nodes}
    return {"nodes": nodes, "hasNextPage": conn["pageInfo"]["hasNextPage"]}


def differences(expected, got, where=""):
    """Where two canonical answers differ: (path, expected, got) for the first differences."""
    if isinstance(expected, dict) and isinstance(got, dict) and expected.keys() == got.keys():
        return [d for key in expected for d in differences(expected[key], got[key], f"{where}.{key}")]
    if isinstance(expected, list) and isinstance(got, list) and len(expected) == len(got):
        found = [d for i, (a, b) in enumerate(zip(expected, got)) for d in differences(a, b, f"{where}[{i}]")]
        return found[:3]
    return [] if expected == got else [(where, expected, got)]


def check(args):
    if args.ours == "none":
        raise SystemExit("check needs the api (--ours URL)")
    state = Path(args.state)
    params = json.loads((state / "params.json").read_text())
    urls = {"ours": args.ours, "postgraphile": args.postgraphile}
    names = {"sql": "SQL", "ours": "ours", "postgraphile": "PostGraphile"}
    failed = False
    for query in QUERIES:
        sql = canonical("sql", query, psql_results(
            args.db, HERE / "queries" / "sql" / f"{query}.sql", sql_variables(params, query)))
        servers = [t for t in targets_of(args, query) if t != "sql"]
        answers = {"sql": sql}
        for target in servers:
            body = json.loads((state / "bodies" / f"{target}-{query}.json").read_text())
            answers[target] = canonical(target, query, post(urls[target], body))
        size = len(sql) if isinstance(sql, list) else len(sql.get("nodes", [sql]))
        if all(answers[target] == sql for target in servers):
            extra = f", totalCount {sql['totalCount']}" if query in ("q2", "q5") else ""
            if query == "q5":
                extra += (f", facets of {len(sql['facets']['years'])} years, "
                          f"{len(sql['facets']['programmes'])} programmes, {len(sql['facets']['offices'])} offices")
            together = " and ".join([", ".join(names[t] for t in ["sql", *servers][:-1]), names[servers[-1]]])
            print(f"{query}: same answer from {together} ({size} rows{extra})", file=sys.stderr)
        else:
            failed = True
            for target in servers:
                if answers[target] != sql:
                    print(f"{query}: {target} differs from SQL:", file=sys.stderr)
                    for where, expected, got in differences(sql, answers[target]):
                        print(f"  at {where or 'the top'}:\n    sql: {json.dumps(expected)[:600]}\n"
                              f"    {target}: {json.dumps(got)[:600]}", file=sys.stderr)
    if failed:
        raise SystemExit("the targets disagree; not measuring")


def rss_mb(pid):
    """The resident set size of process `pid` (VmRSS), in MB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        raise SystemExit(f"the api (pid {pid}) is not running")
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise SystemExit(f"no VmRSS in /proc/{pid}/status")


def run_wrk(url, body_file, seconds, connections, threads, sample_pid=None):
    """req/s, p50 and p99 of one wrk run; with `sample_pid`, also the largest VmRSS of that
    process, sampled every 100 ms while wrk runs."""
    env = {**os.environ, "BODY_FILE": str(body_file)}
    wrk = subprocess.Popen(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
         "-s", str(HERE / "wrk.lua"), url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = None
    if sample_pid:
        peak = rss_mb(sample_pid)
        while wrk.poll() is None:
            time.sleep(0.1)
            peak = max(peak, rss_mb(sample_pid))
    out, err = wrk.communicate()
    if wrk.returncode != 0:
        raise SystemExit(f"wrk {url} {body_file.name}: {err[-800:]}")
    line = next(line for line in out.splitlines() if line.startswith("RESULT"))
    fields = dict(part.split("=") for part in line.split()[1:])
    if int(fields["non2xx"]) or int(fields["sockerr"]):
        raise SystemExit(f"wrk {url} {body_file.name}: {line}")
    result = float(fields["rps"]), float(fields["p50"]), float(fields["p99"])
    return (result, peak) if sample_pid else result


def run_pgbench(db, script, variables, seconds, clients, threads):
    with tempfile.TemporaryDirectory() as logs:
        args = ["pgbench", db, "-n", "-M", "prepared", "-f", str(script), "-c", str(clients),
                "-j", str(threads), "-T", str(seconds), "-l", "--log-prefix", f"{logs}/tx"]
        for name, value in variables.items():
            args += ["-D", f"{name}={value}"]
        out = subprocess.run(args, capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"pgbench {script.name}: {out.stderr[-800:]}")
        tps = float(re.search(r"^tps = ([0-9.]+)", out.stdout, re.M).group(1))
        latencies = []
        for log in Path(logs).iterdir():
            for line in log.read_text().splitlines():
                latencies.append(int(line.split()[2]) / 1000)
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    return tps, pick(0.50), pick(0.99)


def run(args):
    state = Path(args.state)
    params = json.loads((state / "params.json").read_text())
    targets = {
        "sql": lambda q, s: run_pgbench(args.db, HERE / "queries" / "sql" / f"{q}.sql",
                                        sql_variables(params, q), s, args.connections, args.pgbench_threads),
        "ours": lambda q, s, pid=None: run_wrk(args.ours, state / "bodies" / f"ours-{q}.json", s,
                                               args.connections, args.wrk_threads, pid),
        "postgraphile": lambda q, s: run_wrk(args.postgraphile, state / "bodies" / f"postgraphile-{q}.json",
                                             s, args.connections, args.wrk_threads),
    }
    # The api's memory: once before any load, then at its peak under each run of Q1.
    pid = args.api_pid if args.ours != "none" else None
    memory = {"idle": rss_mb(pid) if pid else None, "q1": []}
    memory_log = (state / "memory.tsv").open("a") if pid else None
    if pid:
        memory_log.write(f"1\tidle\t{memory['idle']:.1f}\n")
        memory_log.flush()
    results = {(q, t): [] for q in QUERIES for t in targets_of(args, q)}
    log = (state / "runs.tsv").open("a")
    for round_ in range(1, args.runs + 1):
        for query in QUERIES:
            for target in targets_of(args, query):
                measure = targets[target]
                if round_ == 1 and args.warmup:
                    measure(query, args.warmup)
                if pid and target == "ours" and query == "q1":
                    (rps, p50, p99), peak = measure(query, args.seconds, pid)
                    memory["q1"].append(peak)
                    memory_log.write(f"{round_}\tq1\t{peak:.1f}\n")
                    memory_log.flush()
                else:
                    rps, p50, p99 = measure(query, args.seconds)
                results[(query, target)].append((rps, p50, p99))
                line = f"{round_}\t{query}\t{target}\t{rps:.0f}\t{p50:.2f}\t{p99:.2f}"
                print(line, file=sys.stderr)
                log.write(line + "\n")
                log.flush()
    print(table(results, params, args))
    if pid:
        print()
        print(memory_line(memory, args))


def memory_line(memory, args):
    peaks = memory["q1"]
    runs = f"median of {len(peaks)} runs: " + ", ".join(f"{peak:.1f}" for peak in peaks) if len(peaks) > 1 else "1 run"
    return (f"api memory (VmRSS): {memory['idle']:.1f} MB idle (after the check, before any load); "
            f"{statistics.median(peaks):.1f} MB peak under the Q1 load ({args.connections} connections, "
            f"sampled every 100 ms; {runs}).")


def table(results, params, args):
    def median(query, target):
        runs = results.get((query, target))
        if not runs:
            return None
        return tuple(statistics.median(run[i] for run in runs) for i in range(3))

    def ratio(a, b):
        return f"{a[0] / b[0]:.2f}" if a and b else "n/a"

    lines = [
        f"{params['releases']:,} releases; {args.connections} connections; median of {args.runs} runs "
        f"of {args.seconds} s each. req/s for the servers, transactions/s for pgbench; latencies in ms. "
        f"Q5 searches \"{params['search']}\" ({params['search_matches']:,} releases); "
        "PostGraphile has no full-text search: n/a.",
        "",
        "| query | SQL (pgbench -M prepared) req/s | p50 | p99 | api req/s | p50 | p99 "
        "| PostGraphile req/s | p50 | p99 | api / SQL | api / PostGraphile |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for query in QUERIES:
        sql, ours, peer = (median(query, t) for t in ("sql", "ours", "postgraphile"))
        cells = [DESCRIPTIONS[query]]
        for figures in (sql, ours, peer):
            if figures:
                rps, p50, p99 = figures
                cells += [f"{rps:.0f}", f"{p50:.1f}", f"{p99:.1f}"]
            else:
                cells += ["n/a"] * 3
        cells += [ratio(ours, sql), ratio(ours, peer)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["prepare", "check", "run"])
    parser.add_argument("--db", required=True)
    parser.add_argument("--ours", required=True, help="the api's /graphql URL; none: no wrk runs")
    parser.add_argument("--postgraphile", required=True, help="PostGraphile's /graphql URL, or none")
    parser.add_argument("--state", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up before round 1")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--pgbench-threads", type=int, default=1)
    parser.add_argument("--api-pid", type=int, help="the api's process id: report its memory (VmRSS)")
    args = parser.parse_args()
    {"prepare": prepare, "check": check, "run": run}[args.command](args)


if __name__ == "__main__":
    main()
