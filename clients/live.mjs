// Live updates through real clients: graphql-ws over WebSocket and graphql-sse over
// Server-Sent Events, against the server the `clients` test started. The test drives the
// archive: this script prints `STEP <name> [args]` when it needs something ingested (or
// counted) and reads one JSON line back when it is done. Usage:
//   node live.mjs <base-url> <deliver|resume|limits|slow>
import readline from 'node:readline';
import WebSocket from 'ws';
import { createClient as createWsClient } from 'graphql-ws';
import { createClient as createSseClient } from 'graphql-sse';

const [base, scenario] = process.argv.slice(2);
if (!base || !scenario) {
  console.error('usage: node live.mjs <base-url> <deliver|resume|limits|slow>');
  process.exit(2);
}
const httpUrl = `${base}/graphql`;
const wsUrl = httpUrl.replace(/^http/, 'ws');

const input = readline.createInterface({ input: process.stdin });
const replies = input[Symbol.asyncIterator]();
/** Asks the test to do `name` and waits for its answer. */
async function step(name, ...args) {
  console.log(['STEP', name, ...args].join(' '));
  const { value, done } = await replies.next();
  if (done) throw new Error(`the test ended before answering ${name}`);
  return JSON.parse(value);
}

let checks = 0;
function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
  checks += 1;
  console.log(`ok - ${message}`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A subscription's events as they arrive, with their arrival time. */
class Events {
  constructor(name) {
    this.name = name;
    this.items = [];
    this.errors = [];
    this.waiters = [];
    this.completed = false;
  }
  next(result) {
    if (result.errors) this.errors.push(...result.errors);
    else this.items.push({ at: Date.now(), event: result.data.releaseEvents });
    this.wake();
  }
  error(error) {
    this.errors.push(error);
    this.wake();
  }
  complete() {
    this.completed = true;
    this.wake();
  }
  wake() {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
  /** Waits until `predicate()` holds, at most `ms`. */
  async until(predicate, ms, what) {
    const deadline = Date.now() + ms;
    while (!predicate()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: ${what} within ${ms} ms; got ${JSON.stringify(this.titles())} errors ${JSON.stringify(this.errors)}`);
      await new Promise((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, Math.min(left, 100));
      });
    }
  }
  titles() {
    return this.items.map(({ event }) => event.release?.title ?? `(removed ${event.releaseId})`);
  }
  codes() {
    return this.errors.map((error) => error?.extensions?.code ?? error?.[0]?.extensions?.code ?? String(error?.message ?? error));
  }
}

function wsClient(options = {}) {
  return createWsClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, ...options });
}
function sseClient() {
  return createSseClient({ url: httpUrl, retryAttempts: 0 });
}

const EVENT = 'kind cursor releaseId release { title publishedOn programmes { slug } }';
const SUBSCRIPTION = `subscription($filter: ReleaseFilter, $after: String, $kinds: [ReleaseEventKind!]) {
  releaseEvents(filter: $filter, after: $after, kinds: $kinds) { ${EVENT} }
}`;

function subscribe(client, name, variables) {
  const events = new Events(name);
  events.dispose = client.subscribe({ query: SUBSCRIPTION, variables }, events);
  return events;
}

async function deliver() {
  const ws = wsClient();
  const sse = sseClient();
  const score = { filter: { programmes: ['score'] } };
  const wsScore = subscribe(ws, 'WebSocket SCORE', score);
  const sseScore = subscribe(sse, 'SSE SCORE', score);
  const wsSearch = subscribe(ws, 'WebSocket search', { filter: { search: 'gobi herders' } });
  const { committedAt } = await step('subscribed', 3);
  for (const events of [wsScore, sseScore]) {
    await events.until(() => events.items.length >= 1, 5000, 'the SCORE release');
    const latency = events.items[0].at - committedAt;
    check(events.titles()[0] === 'SCORE factories share what works', `${events.name}: the matching release arrives`);
    check(latency < 1000, `${events.name}: it arrives ${latency} ms after the commit (under a second)`);
  }
  await wsSearch.until(() => wsSearch.items.length >= 1, 5000, 'the searched release');
  check(wsSearch.titles()[0] === 'Herders of the Gobi prepare for winter', 'WebSocket search: the release the search finds arrives');
  await sleep(1500);
  for (const events of [wsScore, sseScore, wsSearch]) {
    check(events.items.length === 1 && events.errors.length === 0, `${events.name}: nothing that does not match, ever (${JSON.stringify(events.titles())})`);
  }
  wsScore.dispose(); sseScore.dispose(); wsSearch.dispose();
  await ws.dispose();
}

async function resume() {
  const kinds = { kinds: ['PUBLISHED'] };
  let ws = wsClient();
  const first = subscribe(ws, 'WebSocket before leaving', kinds);
  await step('subscribed', 1);
  await step('ingest', 'R1');
  await first.until(() => first.items.length >= 1, 5000, 'R1');
  check(first.titles()[0] === 'Resumed release R1', 'the first release arrives');
  const cursor = first.items[0].event.cursor;
  first.dispose();
  await ws.dispose();

  await step('ingest', 'R2');
  await step('ingest', 'R3');
  ws = wsClient();
  const sse = sseClient();
  const wsBack = subscribe(ws, 'WebSocket after coming back', { ...kinds, after: cursor });
  const sseBack = subscribe(sse, 'SSE after coming back', { ...kinds, after: cursor });
  // Published while the two are replaying what they missed.
  await step('ingest', 'R4');
  const expected = ['Resumed release R2', 'Resumed release R3', 'Resumed release R4'];
  for (const events of [wsBack, sseBack]) {
    await events.until(() => events.items.length >= 3, 10000, 'R2, R3 and R4');
  }
  await sleep(1500);
  for (const events of [wsBack, sseBack]) {
    check(JSON.stringify(events.titles()) === JSON.stringify(expected), `${events.name}: exactly R2, R3, R4 in order (${JSON.stringify(events.titles())})`);
    const cursors = events.items.map(({ event }) => event.cursor);
    check(new Set(cursors).size === cursors.length, `${events.name}: every event once`);
  }
  wsBack.dispose(); sseBack.dispose();
  await ws.dispose();
}

/** A raw WebSocket: what closed it, and everything it received. */
function rawSocket(protocols, onOpen) {
  const socket = new WebSocket(wsUrl, protocols);
  const received = [];
  const closed = new Promise((resolve) => {
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    socket.on('error', () => {});
  });
  socket.on('message', (data) => received.push(JSON.parse(data.toString())));
  socket.on('open', () => onOpen?.(socket));
  return { socket, received, closed };
}

async function limits() {
  // Two subscriptions per connection: one of three is refused (whichever the server starts
  // last), the others go on.
  const ws = wsClient({ lazy: false });
  const three = [subscribe(ws, 'first', {}), subscribe(ws, 'second', {}), subscribe(ws, 'third', {})];
  const refusedOne = () => three.filter((events) => events.errors.length > 0);
  await three[0].until(() => refusedOne().length > 0, 5000, 'a refusal among the three');
  await sleep(300);
  const [c] = refusedOne();
  const [a, b] = three.filter((events) => events !== c);
  check(refusedOne().length === 1 && c.codes().includes('TOO_MANY_SUBSCRIPTIONS'), `one subscription too many on one connection: TOO_MANY_SUBSCRIPTIONS (${c.codes()})`);
  check(c.errors.some((error) => /complete one before starting another/.test(error.message)), 'its message says what to do');
  check(a.errors.length === 0 && b.errors.length === 0, 'the other two go on');

  // Depth and cost: as for queries.
  const deep = new Events('deep');
  ws.subscribe({ query: `subscription { releaseEvents { release { ${'related { '.repeat(10)}title${' }'.repeat(10)} } } }` }, deep);
  await deep.until(() => deep.errors.length > 0, 5000, 'a refusal');
  check(deep.codes().includes('QUERY_TOO_DEEP'), `a subscription nested too deep: QUERY_TOO_DEEP (${deep.codes()})`);

  // The document size limit.
  const large = new Events('large');
  ws.subscribe({ query: `subscription { releaseEvents { cursor } }${' '.repeat(20000)}` }, large);
  await large.until(() => large.errors.length > 0, 5000, 'a refusal');
  check(large.codes().includes('DOCUMENT_TOO_LARGE'), `a 20 kB document: DOCUMENT_TOO_LARGE (${large.codes()})`);

  // Three connections per process: this one, two more, then a refusal on either transport.
  const second = wsClient({ lazy: false });
  const third = wsClient({ lazy: false });
  const s2 = subscribe(second, 'second connection', {});
  const s3 = subscribe(third, 'third connection', {});
  await step('subscribed', 4);
  const refused = rawSocket('graphql-transport-ws');
  const { code, reason } = await refused.closed;
  check(code === 1013 && reason.startsWith('TOO_MANY_CONNECTIONS'), `a fourth WebSocket: close ${code} "${reason}"`);
  const response = await fetch(httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query: 'subscription { releaseEvents { cursor } }' }),
  });
  const body = await response.json();
  check(response.status === 503 && body.errors[0].extensions.code === 'TOO_MANY_CONNECTIONS', `a fourth connection over SSE: ${response.status} ${body.errors[0].extensions.code}`);
  s2.dispose(); s3.dispose();
  await second.dispose(); await third.dispose();
  a.dispose(); b.dispose();
  await ws.dispose();
  await sleep(300);

  // The connection-init timeout, and the subprotocol.
  const started = Date.now();
  const silent = rawSocket('graphql-transport-ws');
  const timedOut = await silent.closed;
  check(timedOut.code === 4408, `no connection_init: close ${timedOut.code} "${timedOut.reason}" after ${Date.now() - started} ms`);
  const none = rawSocket([]);
  const notAcceptable = await none.closed;
  check(notAcceptable.code === 4406, `no subprotocol: close ${notAcceptable.code} "${notAcceptable.reason}"`);

  // Ping and pong: a client that answers pings stays connected across several intervals.
  const pinged = rawSocket('graphql-transport-ws', (socket) => socket.send(JSON.stringify({ type: 'connection_init' })));
  let pings = 0;
  pinged.socket.on('ping', () => { pings += 1; });
  await sleep(1500);
  check(pings >= 2 && pinged.socket.readyState === WebSocket.OPEN, `a client answering pings stays connected (${pings} pings)`);
  pinged.socket.send(JSON.stringify({ type: 'ping' }));
  await sleep(200);
  check(pinged.received.some((message) => message.type === 'pong'), 'a protocol ping is answered with a pong');
  pinged.socket.close();
}

async function slow() {
  const fast = wsClient();
  const fastEvents = subscribe(fast, 'fast client', {});
  const big = `subscription { releaseEvents { cursor kind release { title summary publishedOn programmes { slug name } offices { slug name } } } }`;
  const slowClient = rawSocket('graphql-transport-ws', (socket) => {
    socket.send(JSON.stringify({ type: 'connection_init' }));
    socket.send(JSON.stringify({ type: 'subscribe', id: '1', payload: { query: big } }));
  });
  await new Promise((resolve) => slowClient.socket.once('open', resolve));
  await step('subscribed', 2);
  // Stops reading: what the server sends piles up in the socket buffers, then in its queue.
  slowClient.socket._socket.pause();
  const { releases } = await step('ingest-many');
  slowClient.socket._socket.resume();
  const { code, reason } = await slowClient.closed;
  const slowEvents = slowClient.received.filter((message) => message.type === 'next' && !message.payload.errors).length;
  check(code === 1008 && reason.startsWith('SLOW_CONSUMER'), `the slow client is cut off: close ${code} "${reason}" after ${slowEvents} events`);
  await fastEvents.until(() => fastEvents.items.length >= releases, 60000, `all ${releases} events`);
  check(fastEvents.items.length === releases && fastEvents.errors.length === 0, `the fast client got all ${releases} events, each once`);
  fastEvents.dispose();
  await fast.dispose();
}

const scenarios = { deliver, resume, limits, slow };
try {
  if (!scenarios[scenario]) throw new Error(`unknown scenario ${scenario}`);
  await scenarios[scenario]();
  console.log(`${scenario}: ${checks} live checks passed`);
  process.exit(0);
} catch (error) {
  console.error(error?.stack ?? error);
  process.exit(1);
}
