#!/usr/bin/env python3
"""Replays a request log against a running api at a steady rate, ingests new releases every
minute, optionally injects faults, and records what a user and an operator would see.

    bench/soak.py --url http://127.0.0.1:8052 --api-pid PID --db URL --log requests.jsonl \
        --listings DIR [--minutes 30] [--rate 60] [--workers 16] \
        [--fault restart-postgres@90 --pgdata DIR] [--fault kill-ingest@180] \
        [--fault terminate-listener@270] --out DIR

`bench/soak.sh` prepares everything (cluster, archive, log, listings, api) and runs this.

- Requests: the log's lines (GraphQL bodies, from `bench/workload.py`) are sent in order,
  cycling, one every 1/rate seconds, by `--workers` threads on keep-alive connections. A
  request's latency runs from the moment it was due, so a stall shows as latency instead of
  silently lowering the rate. A failure is anything but HTTP 200 with a body without `errors`,
  or no answer at all.
- Ingest: at the start of every minute, `ingest --database-url DB FILE` with the next listing of
  `--listings` (sorted by name). After each one the api must report the archive's new release
  count (`releases { totalCount }`, the response cache on): the delay until it does is recorded.
- Every minute: p50/p99 latency, requests and failures, the api's RSS and open file
  descriptors, its database connections (pool in use and idle, from `/metrics`, and the
  backends of the database seen by PostgreSQL), and the response cache's entries.
- Faults (`KIND@SECONDS`): `restart-postgres` (`pg_ctl restart -m fast` on `--pgdata`),
  `kill-ingest` (an ingest of `--big-listing` killed with SIGKILL once it is writing, the release
  count checked unchanged, then the same ingest run to the end), `terminate-listener`
  (`pg_terminate_backend` on the api's `LISTEN` connection). For each: the failed requests and the
  window in which they failed.

Writes `minutes.tsv`, `seconds.tsv`, `ingests.tsv` (the listings loaded, in order,
for the reference archive) and `summary.json` (totals, errors, each fault's window) into `--out`. Standard library, plus `psql` and
`pg_ctl` on the PATH.
"""
import argparse
import http.client
import json
import os
import queue
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

COUNT_QUERY = json.dumps({"query": "{ releases(first: 1) { totalCount } }"})


def percentile(samples, fraction):
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def psql(db, sql):
    return subprocess.run(
        ["psql", db, "-XtAq", "-c", sql], check=True, capture_output=True, text=True, timeout=60
    ).stdout.strip()


def as_postgres(command):
    """initdb and pg_ctl refuse to run as root."""
    return ["runuser", "-u", "postgres", "--", *command] if os.getuid() == 0 else command


class Recorder:
    """Per second: requests due, answered, failed; per minute: latencies."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seconds = {}
        self.latencies = {}
        self.errors = {}

    def record(self, due, started, latency, ok, error=None):
        second = int(due - started)
        with self.lock:
            done, failed = self.seconds.get(second, (0, 0))
            self.seconds[second] = (done + 1, failed + (0 if ok else 1))
            self.latencies.setdefault(second // 60, []).append(latency)
            if error:
                self.errors[error] = self.errors.get(error, 0) + 1


def worker(url, jobs, recorder, started):
    parsed = urllib.parse.urlsplit(url)
    connection = None
    while True:
        job = jobs.get()
        if job is None:
            return
        due, body = job
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        ok, error = False, None
        try:
            if connection is None:
                connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
            connection.request(
                "POST", "/graphql", body=body, headers={"content-type": "application/json"}
            )
            response = connection.getresponse()
            payload = response.read()
            if response.status != 200:
                error = f"HTTP {response.status}"
            elif b'"errors"' in payload[:20] or b'"errors":' in payload:
                error = "GraphQL errors: " + payload[:160].decode("utf-8", "replace")
            else:
                ok = True
            if response.getheader("connection", "").lower() == "close":
                connection.close()
                connection = None
        except (OSError, http.client.HTTPException) as exc:
            error = type(exc).__name__
            if connection is not None:
                connection.close()
            connection = None
        recorder.record(due, started, time.monotonic() - due, ok, error)


def scrape(url):
    """The api's own gauges, by name (labels joined into the name)."""
    values = {}
    try:
        with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
            text = response.read().decode()
    except OSError:
        return values
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        name, value = line.rsplit(" ", 1)
        try:
            values[name] = float(value)
        except ValueError:
            pass
    return values


def process_figures(pid):
    rss = None
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return rss, fds


def api_count(url):
    request = urllib.request.Request(
        url + "/graphql", data=COUNT_QUERY.encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["data"]["releases"]["totalCount"]


def db_count(db):
    return int(psql(db, "SELECT count(*) FROM release"))


def run_ingest(args, listing):
    begun = time.monotonic()
    result = subprocess.run(
        [args.ingest, "--database-url", args.db, "--log-level", "warn", listing],
        capture_output=True,
        text=True,
    )
    return result.returncode, time.monotonic() - begun, (result.stdout + result.stderr).strip()


def freshness(args):
    """Seconds until the api reports the database's release count (after an ingest)."""
    try:
        expected = db_count(args.db)
    except (subprocess.SubprocessError, OSError):
        return float("nan")
    begun = time.monotonic()
    while time.monotonic() - begun < 30:
        try:
            if api_count(args.url) == expected:
                return time.monotonic() - begun
        except (OSError, KeyError, ValueError):
            pass
        time.sleep(0.05)
    return float("inf")


def kill_ingest(args, log):
    """An ingest killed once its transaction is writing; nothing of it may remain."""
    before = db_count(args.db)
    process = subprocess.Popen(
        [args.ingest, "--database-url", args.db, "--log-level", "warn", args.big_listing],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Ingest's transaction begins by taking its advisory lock: from then on it is writing.
    writing = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
    begun = time.monotonic()
    while time.monotonic() - begun < 60 and process.poll() is None:
        if psql(args.db, writing) != "0":
            break
        time.sleep(0.05)
    time.sleep(1.5)
    killed_while_running = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()
    time.sleep(1)
    after = db_count(args.db)
    log["kill_ingest"] = {
        "killed_while_running": killed_while_running,
        "releases_before": before,
        "releases_after_kill": after,
        "partial_write": after != before,
    }
    code, seconds, output = run_ingest(args, args.big_listing)
    log["kill_ingest"]["rerun"] = {"exit": code, "seconds": round(seconds, 1), "output": output[-200:]}
    return [args.big_listing] if code == 0 else []


def inject(kind, args, log):
    if kind == "restart-postgres":
        pg_ctl = os.path.join(args.pgbin, "pg_ctl")
        result = subprocess.run(
            as_postgres([pg_ctl, "-D", args.pgdata, "-m", "fast", "-w", "-t", "60", "restart",
                         "-l", os.path.join(args.pgdata, "postgres.log")]),
            capture_output=True,
            text=True,
        )
        log["restart_postgres"] = {"exit": result.returncode}
        return []
    if kind == "terminate-listener":
        terminated = psql(
            args.db,
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = 'pressroom-listener'",
        )
        log["terminate_listener"] = {"terminated": int(terminated or 0)}
        return []
    if kind == "kill-ingest":
        return kill_ingest(args, log)
    raise ValueError(kind)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--api-pid", type=int, required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--listings", required=True, help="a folder of listings, one loaded a minute")
    parser.add_argument("--ingest", default="target/release/ingest")
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--rate", type=float, default=60)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--fault", action="append", default=[], help="KIND@SECONDS")
    parser.add_argument("--pgdata")
    parser.add_argument("--pgbin", default="/usr/lib/postgresql/15/bin")
    parser.add_argument("--big-listing")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    faults = []
    for spec in args.fault:
        kind, _, at = spec.partition("@")
        if kind not in ("restart-postgres", "kill-ingest", "terminate-listener") or not at.isdigit():
            parser.error(f"--fault {spec}: expected restart-postgres, kill-ingest or terminate-listener @SECONDS")
        faults.append((int(at), kind))
    if any(k == "restart-postgres" for _, k in faults) and not args.pgdata:
        parser.error("--fault restart-postgres needs --pgdata")
    if any(k == "kill-ingest" for _, k in faults) and not args.big_listing:
        parser.error("--fault kill-ingest needs --big-listing")
    with open(args.log, encoding="utf-8") as lines:
        bodies = [line.strip() for line in lines if line.strip()]
    if not bodies:
        sys.exit(f"{args.log}: no requests")
    listings = sorted(
        os.path.join(args.listings, name) for name in os.listdir(args.listings) if name.endswith(".txt")
    )
    os.makedirs(args.out, exist_ok=True)

    recorder = Recorder()
    jobs = queue.Queue(maxsize=args.workers * 4)
    started = time.monotonic()
    threads = [
        threading.Thread(target=worker, args=(args.url, jobs, recorder, started), daemon=True)
        for _ in range(args.workers)
    ]
    for thread in threads:
        thread.start()

    total = int(args.minutes * 60 * args.rate)

    def feed():
        for n in range(total):
            jobs.put((started + n / args.rate, bodies[n % len(bodies)]))
        for _ in threads:
            jobs.put(None)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()

    minutes, ingests, fault_log = [], [], {}
    pending_faults = sorted(faults)
    minute = 0
    fault_threads = []
    while time.monotonic() - started < args.minutes * 60:
        now = time.monotonic() - started
        while pending_faults and pending_faults[0][0] <= now:
            at, kind = pending_faults.pop(0)
            print(f"{now:7.1f} s: fault {kind}", file=sys.stderr, flush=True)

            def run_fault(kind=kind, at=at):
                begun = time.monotonic() - started
                loaded = inject(kind, args, fault_log)
                fault_log.setdefault("timeline", []).append(
                    {"kind": kind, "at": at, "began": round(begun, 1),
                     "ended": round(time.monotonic() - started, 1)}
                )
                ingests.extend(loaded)

            thread = threading.Thread(target=run_fault)
            thread.start()
            fault_threads.append(thread)
        if now >= minute * 60:
            rss, fds = process_figures(args.api_pid)
            gauges = scrape(args.url)
            faulting = any(t.is_alive() for t in fault_threads)
            try:
                backends = psql(
                    args.db,
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()",
                )
            except (subprocess.SubprocessError, OSError):
                backends = "?"
            row = {
                "minute": minute,
                "rss_mb": round(rss, 1),
                "fds": fds,
                "pool_in_use": gauges.get('pressroom_db_pool_connections{state="in_use"}'),
                "pool_idle": gauges.get('pressroom_db_pool_connections{state="idle"}'),
                "db_backends": backends,
                "cache_entries": gauges.get("pressroom_response_cache_entries"),
                "cache_bytes": gauges.get("pressroom_response_cache_size_bytes"),
                "http_connections": gauges.get("pressroom_http_connections_open"),
            }
            if minute < len(listings) and not faulting:
                code, seconds, output = run_ingest(args, listings[minute])
                row["ingest_exit"] = code
                row["ingest_s"] = round(seconds, 2)
                if code == 0:
                    ingests.append(listings[minute])
                    row["fresh_after_s"] = round(freshness(args), 3)
                else:
                    print(f"ingest of {listings[minute]} failed: {output}", file=sys.stderr)
            minutes.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
            minute += 1
        time.sleep(0.2)

    feeder.join()
    for thread in threads:
        thread.join()
    for thread in fault_threads:
        thread.join()

    for row in minutes:
        samples = recorder.latencies.get(row["minute"], [])
        seconds = [recorder.seconds.get(row["minute"] * 60 + s, (0, 0)) for s in range(60)]
        row["requests"] = sum(done for done, _ in seconds)
        row["failed"] = sum(failed for _, failed in seconds)
        row["p50_ms"] = round(percentile(samples, 0.5) * 1000, 2)
        row["p99_ms"] = round(percentile(samples, 0.99) * 1000, 2)

    windows = []
    for entry in fault_log.get("timeline", []):
        failing = [s for s, (_, failed) in sorted(recorder.seconds.items())
                   if failed and entry["at"] - 1 <= s <= entry["ended"] + 60]
        windows.append({
            **entry,
            "failed_requests": sum(recorder.seconds[s][1] for s in failing),
            "first_failure_s": failing[0] if failing else None,
            "last_failure_s": failing[-1] if failing else None,
        })

    columns = ["minute", "requests", "failed", "p50_ms", "p99_ms", "rss_mb", "fds", "pool_in_use",
               "pool_idle", "db_backends", "cache_entries", "cache_bytes", "http_connections",
               "ingest_exit", "ingest_s", "fresh_after_s"]
    with open(os.path.join(args.out, "minutes.tsv"), "w") as out:
        out.write("\t".join(columns) + "\n")
        for row in minutes:
            out.write("\t".join(str(row.get(c, "")) for c in columns) + "\n")
    with open(os.path.join(args.out, "seconds.tsv"), "w") as out:
        out.write("second\trequests\tfailed\n")
        for second, (done, failed) in sorted(recorder.seconds.items()):
            out.write(f"{second}\t{done}\t{failed}\n")
    with open(os.path.join(args.out, "ingests.tsv"), "w") as out:
        out.writelines(path + "\n" for path in ingests)
    summary = {
        "requests": sum(done for done, _ in recorder.seconds.values()),
        "failed": sum(failed for _, failed in recorder.seconds.values()),
        "errors": recorder.errors,
        "faults": windows,
        "fault_details": {k: v for k, v in fault_log.items() if k != "timeline"},
        "rate": args.rate,
        "minutes": args.minutes,
    }
    with open(os.path.join(args.out, "summary.json"), "w") as out:
        json.dump(summary, out, indent=2)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
