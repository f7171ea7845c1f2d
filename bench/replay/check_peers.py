#!/usr/bin/env python3
"""Checks that the api and PostGraphile answer the peer logs of `workload.py --peer-logs` alike.

    bench/replay/check_peers.py OURS_URL POSTGRAPHILE_URL PREFIX [--sample 300]

Sends `--sample` line pairs, spread evenly over PREFIX-ours.jsonl and PREFIX-postgraphile.jsonl,
to the two /graphql URLs and fails unless every answer is free of errors and both give the same
releases in the same order (slugs), the same totalCount (except on deep pages, where
PostGraphile's counts what follows the keyset it filters on) and hasNextPage, and for a release
by slug the same programmes and offices. Standard library only.
"""
import argparse
import json
import sys
import urllib.request


def post(url, body):
    request = urllib.request.Request(url, data=body.encode(), headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.load(response)
    if answer.get("errors"):
        raise SystemExit(f"{url}: {answer['errors']} for {body[:300]}")
    return answer["data"]


def ours_view(data):
    if "release" in data:
        release = data["release"]
        return release and (release["slug"], [p["slug"] for p in release["programmes"]],
                            [o["slug"] for o in release["offices"]])
    page = data["releases"]
    return ([n["slug"] for n in page["nodes"]], page["totalCount"], page["pageInfo"]["hasNextPage"])


def peer_view(data):
    if "releaseBySlug" in data:
        release = data["releaseBySlug"]
        return release and (release["slug"],
                            sorted((p["programme"]["slug"] for p in release["releaseProgrammes"]["nodes"])),
                            sorted((o["office"]["slug"] for o in release["releaseOffices"]["nodes"])))
    page = data["releases"]
    return ([n["slug"] for n in page["nodes"]], page["totalCount"], page["pageInfo"]["hasNextPage"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ours")
    parser.add_argument("postgraphile")
    parser.add_argument("prefix")
    parser.add_argument("--sample", type=int, default=300)
    args = parser.parse_args()
    ours = open(f"{args.prefix}-ours.jsonl", encoding="utf-8").read().splitlines()
    peer = open(f"{args.prefix}-postgraphile.jsonl", encoding="utf-8").read().splitlines()
    if len(ours) != len(peer) or not ours:
        sys.exit("the two logs must have the same, non-zero, number of lines")
    step = max(1, len(ours) // args.sample)
    checked = 0
    for index in range(0, len(ours), step):
        mine, theirs = ours_view(post(args.ours, ours[index])), peer_view(post(args.postgraphile, peer[index]))
        if json.loads(ours[index])["variables"].get("after"):
            # The keyset is PostGraphile's filter: its totalCount counts what follows the cursor,
            # the api's (as Relay has it) the whole list.
            mine, theirs = (mine[0], mine[2]), (theirs[0], theirs[2])
        if mine and isinstance(mine[0], str):
            # A release: the api lists tags by name, PostGraphile by key; compare them as sets.
            mine = (mine[0], sorted(mine[1]), sorted(mine[2]))
        if mine != theirs:
            sys.exit(f"line {index + 1}: the api answers {mine}, PostGraphile {theirs}")
        checked += 1
    print(f"{checked} request pairs: same answers from the api and PostGraphile")


if __name__ == "__main__":
    main()
