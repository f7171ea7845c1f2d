#!/usr/bin/env python3
"""EXPLAIN ANALYZE of the SQL the api runs for each request body.

    bench/explain.py DB_URL API_URL SERVER_LOG BODY.json... > plans.md

For each body: turns on statement logging for the whole server (ALTER SYSTEM, reload, so the
api's pooled connections log too), sends the body to the api once, turns logging off again, reads
the statements the api ran from SERVER_LOG (the cluster of bench/peers/cluster.sh logs to
PEERS_ROOT/pgdata/postgres.log) with their bind parameters filled in, and prints each with the
plan of `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)` as markdown. Only SELECTs are kept; run it while
nothing else queries the server, or other clients' statements are picked up too. Standard
library only; needs psql.
"""
import re
import subprocess
import sys
import time
import urllib.request


def psql(db, sql):
    return subprocess.run(["psql", db, "-XqAt", "-v", "ON_ERROR_STOP=1"], input=sql, check=True,
                          capture_output=True, text=True).stdout


def statements(log_text):
    """The SELECTs of a server log excerpt, each with its parameters substituted."""
    lines = log_text.splitlines()
    found = []
    for i, line in enumerate(lines):
        m = re.search(r"execute [^:]*: (.*)$", line)
        if not m:
            continue
        sql = m.group(1)
        j = i + 1
        while j < len(lines) and not re.match(r"^\d{4}-\d\d-\d\d ", lines[j]):
            sql += "\n" + lines[j]
            j += 1
        if j < len(lines) and "DETAIL:  parameters:" in lines[j]:
            params = dict(re.findall(r"\$(\d+) = ('(?:[^']|'')*'|NULL)", lines[j]))
            for k in sorted(params, key=int, reverse=True):
                sql = sql.replace(f"${k}", params[k])
        if sql.lstrip().upper().startswith("SELECT") and "seaql" not in sql and sql not in found:
            found.append(sql)
    return found


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    db, api, log, bodies = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    for body in bodies:
        psql(db, "ALTER SYSTEM SET log_min_duration_statement = 0; SELECT pg_reload_conf();")
        time.sleep(0.3)
        with open(log, errors="replace") as f:
            f.seek(0, 2)
            start = f.tell()
        try:
            request = urllib.request.Request(api, data=open(body, "rb").read(),
                                             headers={"content-type": "application/json"})
            urllib.request.urlopen(request).read()
            time.sleep(0.5)
        finally:
            psql(db, "ALTER SYSTEM RESET log_min_duration_statement; SELECT pg_reload_conf();")
        with open(log, errors="replace") as f:
            f.seek(start)
            excerpt = f.read()
        print(f"### {body.rsplit('/', 1)[-1]}\n")
        for sql in statements(excerpt):
            plan = psql(db, "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)
            print(f"```sql\n{sql.strip()}\n```\n\n```\n{plan.strip()}\n```\n")


if __name__ == "__main__":
    main()
