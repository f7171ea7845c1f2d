#!/usr/bin/env python3
"""Connection-level abuse of a running api, loopback only, bounded in count and time.

Each attack opens its connections, holds them while probing ordinary requests, and reports how
the server treated them:

- slow-headers: a request header started and trickled one byte a second, never finished;
- idle: a request answered, then the kept-alive connection left idle;
- slow-body: a POST declaring a 100 kB body that never comes;
- oversized-header: one header line of 200 kB (answered at once: the status is reported);
- many-headers: 200 header lines.

For each: how many connections the server closed within the hold time and when (p50/max), the
statuses it answered, and the latency of ordinary GraphQL requests made meanwhile (p50/p99)
beside a baseline taken before any attack. Usage:

    python3 bench/abuse.py --url http://127.0.0.1:8000 [--connections 900] [--hold 15]

Needs only the standard library. Refuses any address outside 127.0.0.0/8 and ::1.
"""

import argparse
import asyncio
import ipaddress
import json
import resource
import sys
import time
import urllib.parse

PROBE = json.dumps({"query": "{ releases(first: 5) { totalCount nodes { slug } } }"}).encode()


def percentile(values, fraction):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def probe(host, port):
    """One ordinary GraphQL request on a fresh connection; its latency in ms, or None."""
    started = time.perf_counter()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 5)
        writer.write(
            b"POST /graphql HTTP/1.1\r\nhost: %s\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (host.encode(), len(PROBE), PROBE)
        )
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), 5)
        await asyncio.wait_for(reader.read(), 5)
        writer.close()
        if not status.startswith(b"HTTP/1.1 200"):
            return None
        return (time.perf_counter() - started) * 1000
    except (OSError, asyncio.TimeoutError):
        return None


async def probe_for(host, port, seconds, every=0.1):
    latencies, failures = [], 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        latency = await probe(host, port)
        if latency is None:
            failures += 1
        else:
            latencies.append(latency)
        await asyncio.sleep(every)
    return latencies, failures


async def hold(host, port, attack, hold_seconds):
    """Opens one connection for `attack` and returns (closed_after_s or None, first status)."""
    opened = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 5)
    except (OSError, asyncio.TimeoutError):
        return ("connect-failed", None)
    status = None
    try:
        if attack == "slow-headers":
            writer.write(b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-slow: ")
        elif attack == "idle":
            writer.write(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        elif attack == "slow-body":
            writer.write(
                b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                b"content-length: 100000\r\n\r\n{"
            )
        elif attack == "oversized-header":
            writer.write(b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * 200_000 + b"\r\n\r\n")
        elif attack == "many-headers":
            writer.write(
                b"GET /healthz HTTP/1.1\r\nhost: x\r\n"
                + b"".join(b"x-h%d: y\r\n" % i for i in range(200))
                + b"\r\n"
            )
        await writer.drain()
        end = opened + hold_seconds
        while time.monotonic() < end:
            try:
                data = await asyncio.wait_for(reader.read(4096), 1.0)
            except asyncio.TimeoutError:
                if attack == "slow-headers":
                    writer.write(b"a")
                    await writer.drain()
                continue
            if not data:
                return (time.monotonic() - opened, status)
            if status is None and data.startswith(b"HTTP/"):
                status = data.split(b" ", 2)[1].decode()
        return (None, status)
    except (OSError, asyncio.TimeoutError):
        return (time.monotonic() - opened, status)
    finally:
        writer.close()


async def run_attack(host, port, attack, connections, hold_seconds):
    holders = [
        asyncio.create_task(hold(host, port, attack, hold_seconds)) for _ in range(connections)
    ]
    await asyncio.sleep(1)
    latencies, failures = await probe_for(host, port, max(1.0, hold_seconds - 2))
    results = await asyncio.gather(*holders)
    connect_failed = sum(1 for closed, _ in results if closed == "connect-failed")
    closed = [c for c, _ in results if isinstance(c, float)]
    statuses = {}
    for _, status in results:
        statuses[status or "none"] = statuses.get(status or "none", 0) + 1
    return {
        "attack": attack,
        "connections": connections,
        "connect_failed": connect_failed,
        "closed_by_server": len(closed),
        "closed_after_s_p50": percentile(closed, 0.5),
        "closed_after_s_max": max(closed) if closed else None,
        "statuses": statuses,
        "probe_ms_p50": percentile(latencies, 0.5),
        "probe_ms_p99": percentile(latencies, 0.99),
        "probe_failures": failures,
    }


def loopback(host):
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


async def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--connections", type=int, default=900, help="per attack (at most 20000)")
    parser.add_argument("--hold", type=float, default=15.0, help="seconds each attack holds (at most 120)")
    parser.add_argument(
        "--attacks",
        default="slow-headers,idle,slow-body,oversized-header,many-headers",
        help="comma-separated subset",
    )
    args = parser.parse_args()
    url = urllib.parse.urlsplit(args.url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    if not loopback(host):
        sys.exit(f"refusing {host}: this script only targets loopback addresses")
    connections = max(1, min(args.connections, 20_000))
    # Each held connection is a descriptor of this process too.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < connections + 256:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    hold_seconds = max(2.0, min(args.hold, 120.0))
    baseline, failures = await probe_for(host, port, 3)
    report = {
        "baseline": {
            "probe_ms_p50": percentile(baseline, 0.5),
            "probe_ms_p99": percentile(baseline, 0.99),
            "probe_failures": failures,
        },
        "attacks": [],
    }
    for attack in args.attacks.split(","):
        report["attacks"].append(await run_attack(host, port, attack.strip(), connections, hold_seconds))
        await asyncio.sleep(2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
