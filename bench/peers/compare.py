#!/usr/bin/env python3
"""The data side of compare.sh: request bodies, the correctness check, the load runs, the table.

  compare.py prepare --db URL --ours URL --postgraphile URL --state DIR
      picks Q2's programme and range, Q3's keyset position and Q4's slug from the database,
      and writes the GraphQL bodies and pgbench variables under DIR.
  compare.py check --db URL --ours URL --postgraphile URL --state DIR
      runs each query once on each target and fails unless all three answer the same rows.
  compare.py run --db URL --ours URL --postgraphile URL --state DIR [--runs 3 --seconds 5 ...]
      wrk and pgbench -M prepared, interleaved by run; prints a markdown table of the medians.

Standard library only; psql, pgbench and wrk must be on PATH.
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
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUERIES = ["q1", "q2", "q3", "q4"]
DESCRIPTIONS = {
    "q1": "Q1 newest 20, with programmes and offices",
    "q2": "Q2 one programme in a year, 20 + totalCount",
    "q3": "Q3 page of 20 deep in the archive (keyset)",
    "q4": "Q4 release by slug",
}
# Q2: a programme with releases in every year of the generated corpus, over one year.
Q2_PROGRAMME = "score"
Q2_FROM, Q2_TO = "2015-01-01", "2015-12-31"


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
    headers = {"slug", "total_count"}
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
    cursor = post(args.postgraphile, body_of("postgraphile", "cursor", {"offset": offset - 1}))
    edge = cursor["releases"]["edges"][0]
    if edge["node"]["slug"] != slug:
        raise SystemExit(f"PostGraphile's release at offset {offset - 1} is {edge['node']['slug']}, SQL's is {slug}")
    params = {
        "releases": total,
        "programme": Q2_PROGRAMME,
        "from": Q2_FROM,
        "to": Q2_TO,
        "after_date": date,
        "after_id": release_id,
        "slug": q4_slug,
        "ours_after": ours_cursor,
        "postgraphile_after": edge["cursor"],
    }
    (state / "params.json").write_text(json.dumps(params, indent=2) + "\n")
    for query in QUERIES:
        for target, after in (("ours", ours_cursor), ("postgraphile", edge["cursor"])):
            body = body_of(target, query, {**params, "after": after})
            (state / "bodies" / f"{target}-{query}.json").write_text(json.dumps(body))
    print(f"{total} releases; Q3 after position {offset} ({date}); Q4 slug {q4_slug}", file=sys.stderr)


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
        return {"nodes": nodes[:20], "hasNextPage": len(nodes) > 20}

    if target == "ours":
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


def check(args):
    state = Path(args.state)
    params = json.loads((state / "params.json").read_text())
    failed = False
    for query in QUERIES:
        sql = canonical("sql", query, psql_results(
            args.db, HERE / "queries" / "sql" / f"{query}.sql", sql_variables(params, query)))
        answers = {"sql": sql}
        for target, url in (("ours", args.ours), ("postgraphile", args.postgraphile)):
            body = json.loads((state / "bodies" / f"{target}-{query}.json").read_text())
            answers[target] = canonical(target, query, post(url, body))
        size = len(sql) if isinstance(sql, list) else len(sql.get("nodes", [sql]))
        if answers["ours"] == sql and answers["postgraphile"] == sql:
            extra = f", totalCount {sql['totalCount']}" if query == "q2" else ""
            print(f"{query}: same answer from SQL, ours and PostGraphile ({size} rows{extra})", file=sys.stderr)
        else:
            failed = True
            for target in ("ours", "postgraphile"):
                if answers[target] != sql:
                    print(f"{query}: {target} differs from SQL:\n  sql: {json.dumps(sql)[:600]}\n"
                          f"  {target}: {json.dumps(answers[target])[:600]}", file=sys.stderr)
    if failed:
        raise SystemExit("the targets disagree; not measuring")


def run_wrk(url, body_file, seconds, connections, threads):
    env = {**os.environ, "BODY_FILE": str(body_file)}
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
         "-s", str(HERE / "wrk.lua"), url],
        check=True, capture_output=True, text=True, env=env).stdout
    line = next(line for line in out.splitlines() if line.startswith("RESULT"))
    fields = dict(part.split("=") for part in line.split()[1:])
    if int(fields["non2xx"]) or int(fields["sockerr"]):
        raise SystemExit(f"wrk {url} {body_file.name}: {line}")
    return float(fields["rps"]), float(fields["p50"]), float(fields["p99"])


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
        "ours": lambda q, s: run_wrk(args.ours, state / "bodies" / f"ours-{q}.json", s,
                                     args.connections, args.wrk_threads),
        "postgraphile": lambda q, s: run_wrk(args.postgraphile, state / "bodies" / f"postgraphile-{q}.json",
                                             s, args.connections, args.wrk_threads),
    }
    results = {(q, t): [] for q in QUERIES for t in targets}
    log = (state / "runs.tsv").open("a")
    for round_ in range(1, args.runs + 1):
        for query in QUERIES:
            for target, measure in targets.items():
                if round_ == 1 and args.warmup:
                    measure(query, args.warmup)
                rps, p50, p99 = measure(query, args.seconds)
                results[(query, target)].append((rps, p50, p99))
                line = f"{round_}\t{query}\t{target}\t{rps:.0f}\t{p50:.2f}\t{p99:.2f}"
                print(line, file=sys.stderr)
                log.write(line + "\n")
                log.flush()
    print(table(results, params, args))


def table(results, params, args):
    def median(query, target):
        runs = results[(query, target)]
        return tuple(statistics.median(run[i] for run in runs) for i in range(3))

    lines = [
        f"{params['releases']:,} releases; {args.connections} connections; median of {args.runs} runs "
        f"of {args.seconds} s each. req/s for the servers, transactions/s for pgbench; latencies in ms.",
        "",
        "| query | SQL (pgbench -M prepared) req/s | p50 | p99 | api req/s | p50 | p99 "
        "| PostGraphile req/s | p50 | p99 | api / SQL | api / PostGraphile |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for query in QUERIES:
        sql, ours, peer = (median(query, t) for t in ("sql", "ours", "postgraphile"))
        cells = [DESCRIPTIONS[query]]
        for rps, p50, p99 in (sql, ours, peer):
            cells += [f"{rps:.0f}", f"{p50:.1f}", f"{p99:.1f}"]
        cells += [f"{ours[0] / sql[0]:.2f}", f"{ours[0] / peer[0]:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["prepare", "check", "run"])
    parser.add_argument("--db", required=True)
    parser.add_argument("--ours", required=True)
    parser.add_argument("--postgraphile", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up before round 1")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--pgbench-threads", type=int, default=1)
    args = parser.parse_args()
    {"prepare": prepare, "check": check, "run": run}[args.command](args)


if __name__ == "__main__":
    main()
