// Many filtered subscriptions on one api process while releases are ingested one a second:
// delivery latency from each ingest's commit to each client, the api's memory per
// subscription, the database connections in use, and whether every subscriber got exactly the
// releases its filter matches (checked against `releases` with the same filter afterwards).
//
//   node bench/live/subscribers.mjs --url URL --database-url DB --ingest BIN --api-pid PID
//        [--subscribers 10000] [--releases 60] [--interval-ms 1000] [--out DIR]
//
// Each subscriber is one WebSocket (graphql-transport-ws) carrying one subscription to
// `releaseEvents(filter, kinds: [PUBLISHED])`; the filters cycle through every programme, every
// office, two searches, a date range and no filter. Release k is written as a one-release listing
// dated 2026-12-01 whose title names programme k mod P, and loaded by `ingest` (a process of its
// own, as an operator would); its commit time is the timestamp of the "committed" line `ingest`
// logs right after the commit, on this machine's clock, the same clock that stamps arrivals.
// Uses the `ws` package of clients/ (run `npm ci` there first) and `psql`.

import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(new URL('../../clients/package.json', import.meta.url));
const WebSocket = require('ws');

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, arg, i, all) => {
  if (arg.startsWith('--')) pairs.push([arg.slice(2), all[i + 1]]);
  return pairs;
}, []));
const base = args.url;
const databaseUrl = args['database-url'];
const ingestBin = args.ingest;
const apiPid = Number(args['api-pid']);
const subscribers = Number(args.subscribers ?? 10_000);
const releases = Number(args.releases ?? 60);
const intervalMs = Number(args['interval-ms'] ?? 1000);
const outDir = args.out ?? null;
if (!base || !databaseUrl || !ingestBin || !apiPid) {
  console.error('usage: node bench/live/subscribers.mjs --url URL --database-url DB --ingest BIN --api-pid PID [--subscribers N] [--releases N]');
  process.exit(2);
}
const RELEASE_DATE = '2026-12-01';
const OPEN_BATCH = 250;

async function graphql(query, variables = {}) {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(`${query}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

function rssMiB(pid) {
  const status = execFileSync('cat', [`/proc/${pid}/status`], { encoding: 'utf8' });
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kib / 1024;
}

function databaseConnections() {
  const name = new URL(databaseUrl).pathname.slice(1);
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const out = execFileSync('psql', [admin.toString(), '-XAtc',
    `SELECT count(*) FILTER (WHERE backend_type = 'client backend'), count(*) FILTER (WHERE state = 'active' AND backend_type = 'client backend') FROM pg_stat_activity WHERE datname = '${name}' AND pid <> pg_backend_pid()`],
  { encoding: 'utf8' }).trim();
  const [all, active] = out.split('|').map(Number);
  return { all, active };
}

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const SUBSCRIPTION = `subscription($filter: ReleaseFilter) {
  releaseEvents(filter: $filter, kinds: [PUBLISHED]) { cursor release { slug title } } }`;

/** One subscriber: a WebSocket and what it received (title → arrival time, and duplicates). */
function subscribe(index, filter) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${base.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    const subscriber = { index, filter, socket, received: new Map(), duplicates: 0, closed: null };
    const timer = setTimeout(() => reject(new Error(`subscriber ${index}: no ack in 30 s`)), 30_000);
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUBSCRIPTION, variables: { filter } } }));
        clearTimeout(timer);
        resolve(subscriber);
      } else if (message.type === 'next') {
        const title = message.payload?.data?.releaseEvents?.release?.title;
        if (!title) {
          subscriber.closed = `unexpected payload ${JSON.stringify(message.payload)}`;
        } else if (subscriber.received.has(title)) {
          subscriber.duplicates += 1;
        } else {
          subscriber.received.set(title, Date.now());
        }
      } else if (message.type === 'ping') {
        socket.send(JSON.stringify({ type: 'pong' }));
      } else if (message.type === 'error') {
        subscriber.closed = `error ${JSON.stringify(message.payload)}`;
      }
    });
    socket.on('close', (code, reason) => {
      subscriber.closed ??= `closed ${code} ${reason}`;
      clearTimeout(timer);
      reject(new Error(`subscriber ${index}: ${subscriber.closed}`));
    });
    socket.on('error', (error) => reject(error));
  });
}

/** Loads release `k` with `ingest` and returns its commit time (ms since the epoch). */
async function ingestRelease(dir, k, programme) {
  const title = `Live benchmark release ${k} on ${programme.label} and decent work`;
  const listing = `News and press releases\n\n  1. ${title}\n\n    ${Number(RELEASE_DATE.slice(8))} December 2026\n\n    The ${programme.label} team met workers and employers, release ${k} of the live benchmark.\n`;
  const file = path.join(dir, `live-${String(k).padStart(5, '0')}.txt`);
  await writeFile(file, listing);
  return new Promise((resolve, reject) => {
    const child = spawn(ingestBin, ['--database-url', databaseUrl, '--log-level', 'info', file], { env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('close', (code) => {
      const line = stderr.split('\n').find((l) => l.includes('committed'));
      // eslint-disable-next-line no-control-regex
      const stamp = line?.replace(/\x1b\[[0-9;]*m/g, '').trim().split(/\s+/)[0];
      const at = stamp ? Date.parse(stamp) : NaN;
      if (code !== 0 || Number.isNaN(at)) reject(new Error(`ingest ${file} exited ${code}: ${stderr}`));
      else resolve({ title, at });
    });
  });
}

async function main() {
  const { programmes, offices } = await graphql('{ programmes { slug name acronym } offices { slug } }');
  const filters = [
    ...programmes.map((p) => ({ programmes: [p.slug] })),
    ...offices.map((o) => ({ offices: [o.slug] })),
    { search: 'workers' },
    { search: 'apprenticeship' },
    { publishedFrom: RELEASE_DATE },
    {},
  ];
  const labels = programmes.map((p) => ({ slug: p.slug, label: p.acronym ?? p.name }));

  const rssBefore = rssMiB(apiPid);
  const opened = [];
  const openStart = Date.now();
  for (let i = 0; i < subscribers; i += OPEN_BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(subscribers, i + OPEN_BATCH); j += 1) batch.push(subscribe(j, filters[j % filters.length]));
    opened.push(...await Promise.all(batch));
  }
  const openSeconds = (Date.now() - openStart) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const rssSubscribed = rssMiB(apiPid);
  const connectionsIdle = databaseConnections();
  for (const subscriber of opened) {
    subscriber.socket.removeAllListeners('close');
    subscriber.socket.on('close', (code, reason) => { subscriber.closed ??= `closed ${code} ${reason}`; });
  }

  const dir = await mkdtemp(path.join(os.tmpdir(), 'live-bench-'));
  const commits = new Map();
  const connectionSamples = [];
  let rssPeak = rssSubscribed;
  for (let k = 0; k < releases; k += 1) {
    const started = Date.now();
    const { title, at } = await ingestRelease(dir, k, labels[k % labels.length]);
    commits.set(title, at);
    connectionSamples.push(databaseConnections());
    rssPeak = Math.max(rssPeak, rssMiB(apiPid));
    const wait = intervalMs - (Date.now() - started);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const rssAfter = rssMiB(apiPid);

  // What each filter should have delivered: the same filter over the benchmark's releases.
  const expected = new Map();
  for (const filter of filters) {
    const data = await graphql(`query($filter: ReleaseFilter) { releases(filter: $filter, first: 100) { nodes { title } } }`,
      { filter: { ...filter, publishedFrom: RELEASE_DATE } });
    expected.set(JSON.stringify(filter), new Set(data.releases.nodes.map((n) => n.title).filter((t) => commits.has(t))));
  }

  const latencies = [];
  let missing = 0;
  let extra = 0;
  let duplicates = 0;
  let closed = 0;
  for (const subscriber of opened) {
    const wanted = expected.get(JSON.stringify(subscriber.filter));
    for (const title of wanted) if (!subscriber.received.has(title)) missing += 1;
    for (const [title, arrived] of subscriber.received) {
      if (!wanted.has(title)) { extra += 1; continue; }
      latencies.push(arrived - commits.get(title));
    }
    duplicates += subscriber.duplicates;
    if (subscriber.closed) closed += 1;
    subscriber.socket.terminate();
  }
  latencies.sort((a, b) => a - b);
  const deliveries = latencies.length;
  const result = {
    subscribers,
    releases,
    intervalMs,
    openSeconds,
    deliveries,
    expectedDeliveries: opened.reduce((n, s) => n + expected.get(JSON.stringify(s.filter)).size, 0),
    missing,
    extra,
    duplicates,
    closedEarly: closed,
    latencyMs: {
      p50: percentile(latencies, 50), p90: percentile(latencies, 90), p99: percentile(latencies, 99), max: latencies.at(-1),
    },
    rssMiB: { before: +rssBefore.toFixed(1), subscribed: +rssSubscribed.toFixed(1), peak: +rssPeak.toFixed(1), after: +rssAfter.toFixed(1) },
    kibPerSubscription: +(((rssSubscribed - rssBefore) * 1024) / subscribers).toFixed(1),
    databaseConnections: {
      idleWithSubscribers: connectionsIdle,
      duringIngests: { maxAll: Math.max(...connectionSamples.map((c) => c.all)), maxActive: Math.max(...connectionSamples.map((c) => c.active)) },
    },
  };
  console.log(JSON.stringify(result, null, 2));
  if (outDir) {
    await mkdir(outDir, { recursive: true });
    await writeFile(path.join(outDir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
    await writeFile(path.join(outDir, 'latencies.txt'), `${latencies.join('\n')}\n`);
  }
  if (missing || extra || duplicates) process.exitCode = 1;
}

main().catch((error) => {
  console.error(`live benchmark: ${error.message}`);
  process.exit(1);
});
