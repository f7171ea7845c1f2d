#!/usr/bin/env python3
"""The api's CPU per request by part, from `perf script` output (bench/profile.sh).

    bench/profile_parts.py LABEL=PERF_SCRIPT.txt=REQ_PER_S...

Each sample goes to the first part whose pattern matches a frame of its stack, walking from the
leaf, so kernel and allocator frames count for whoever called them; samples are taken at 1999 Hz
over 8 s. One column pair (µs per request, share) per argument. Standard library only.
"""
import re, sys, collections
CATS = [
 ("serialisation", r"serde_json::ser|as serde::ser::Serialize>|graphql_body|direct::answer::write_|direct::answer::Json|direct::answer::Members|direct::answer::Items|cursor::encode|GlobalId.*encode"),
 ("SQL driver, pool and row decoding", r"sqlx|sea_orm|sea_query|api::store::|FromQueryResult|PageRow"),
 ("GraphQL parse", r"async_graphql_parser|pest::|parse_query|parsed_query"),
 ("validation and limits", r"async_graphql::validation|schema::guard|check_rules"),
 ("execution", r"async_graphql::|api::schema::|dataloader"),
 ("request body", r"read_body|read_batch|read_request|PlainBody|answer_by_plan"),
 ("HTTP (hyper, axum, tower, logging, metrics)", r"hyper|axum|tower|request_log|api::http::|api::ops::metrics|prometheus|tracing"),
 ("runtime and scheduling", r"tokio::|mio::|epoll|futex|schedule|finish_task_switch"),
]
pats = [(n, re.compile(p)) for n, p in CATS]
def run(path):
    counts = collections.Counter(); total = 0
    for st in open(path).read().split('\n\n'):
        lines = [l.strip() for l in st.strip().split('\n')[1:] if l.strip()]
        if not lines: continue
        total += 1
        cat = "other"
        for l in lines:
            sym = re.sub(r'^[0-9a-f]+ ', '', l)
            hit = next((n for n, p in pats if p.search(sym)), None)
            if hit: cat = hit; break
        counts[cat] += 1
    return counts, total
res = {}
for arg in sys.argv[1:]:
    name, path, rps = arg.split("=")
    c, t = run(path)
    res[name] = (c, t, float(rps))
names = list(res)
print("| part | " + " | ".join(f"{n} µs/request | share" for n in names) + " |")
print("|---|" + "--:|--:|" * len(names))
order = [n for n, _ in CATS] + ["other"]
for cat in order:
    row = []
    for n in names:
        c, t, rps = res[n]
        # samples at 1999 Hz over 8 s -> CPU seconds = samples/1999; per request = that / (rps*8)
        us = c[cat] / 1999 / (rps * 8) * 1e6
        row.append(f"{us:.0f} | {100*c[cat]/t:.0f}%")
    print(f"| {cat} | " + " | ".join(row) + " |")
row = []
for n in names:
    c, t, rps = res[n]
    row.append(f"**{t/1999/(rps*8)*1e6:.0f}** | 100%")
print("| **api CPU per request** | " + " | ".join(row) + " |")
