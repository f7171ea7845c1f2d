/**
 * The explorer's only link to the server: the public GraphQL API (POST /graphql, JSON), through
 * the same queries any other client would send.
 */

const ENDPOINT = '/graphql';

/**
 * A request the API refused or could not answer. `message` is for developers (the API's own
 * words); the page explains `kind` in its own words instead.
 *   kind: 'offline' (no answer), 'input' (BAD_USER_INPUT), 'busy' (TIMEOUT or
 *   SERVICE_UNAVAILABLE), 'refused' (any other error).
 */
export class ApiError extends Error {
  constructor(message, { kind, code = null, status = null }) {
    super(message);
    this.kind = kind;
    this.code = code;
    this.status = status;
  }
}

const KINDS = { BAD_USER_INPUT: 'input', TIMEOUT: 'busy', SERVICE_UNAVAILABLE: 'busy' };

/** `data` of `query` run with `variables`; throws ApiError on any GraphQL or HTTP error. */
export async function graphql(query, variables = {}) {
  let response;
  try {
    response = await fetch(ENDPOINT, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json;q=0.9',
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch (error) {
    throw new ApiError(error.message, { kind: 'offline' });
  }
  const status = response.status;
  let body;
  try {
    body = await response.json();
  } catch {
    const kind = status === 502 || status === 503 || status === 504 ? 'busy' : 'refused';
    throw new ApiError(`${status} ${response.statusText} without a GraphQL response`, { kind, status });
  }
  if (body.errors?.length) {
    const code = body.errors[0].extensions?.code ?? null;
    throw new ApiError(body.errors.map((error) => error.message).join('\n'),
      { kind: KINDS[code] ?? 'refused', code, status });
  }
  if (!response.ok || !body.data) {
    throw new ApiError(`${status} ${response.statusText}`, { kind: status >= 500 ? 'busy' : 'refused', status });
  }
  return body.data;
}

/**
 * Runs the subscription `query` with `variables` as Server-Sent Events (the graphql-sse
 * protocol, distinct connections: a POST that accepts `text/event-stream`), calling
 * `onResult` with each result (`{ data }` or `{ errors }`) as it comes. Resolves when the
 * stream ends (its `complete` event, or the server closing it); rejects with ApiError when it
 * cannot be opened or breaks (kind 'offline'), when the server refuses it before streaming
 * (its status and code), or with whatever `onResult` throws; with the AbortError when
 * `signal` ends it.
 */
export async function subscribe(query, variables, { signal, onResult }) {
  let response;
  try {
    response = await fetch(ENDPOINT, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query, variables }),
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw error;
    throw new ApiError(error.message, { kind: 'offline' });
  }
  const status = response.status;
  if (!response.ok || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    // Refused before any event (503 TOO_MANY_CONNECTIONS), or not this API answering.
    const body = await response.json().catch(() => null);
    const code = body?.errors?.[0]?.extensions?.code ?? null;
    throw new ApiError(`${status} ${response.statusText} instead of an event stream`,
      { kind: KINDS[code] ?? (status >= 500 ? 'busy' : 'refused'), code, status });
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let line = '';
  let event = { type: '', data: [] };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      // Lines end with CR LF, LF or CR; a CR at the end of a chunk waits for the next one.
      line += value;
      const held = line.endsWith('\r') ? '\r' : '';
      const lines = (held ? line.slice(0, -1) : line).split(/\r\n|\r|\n/);
      line = lines.pop() + held;
      for (const text of lines) {
        if (text === '') {
          // A blank line dispatches the event; comment lines (`:`, the keep-alives) carry none.
          if (event.type === 'complete') {
            reader.cancel().catch(() => {});
            return;
          }
          if (event.type === 'next' && event.data.length) onResult(JSON.parse(event.data.join('\n')));
          event = { type: '', data: [] };
        } else if (!text.startsWith(':')) {
          const colon = text.indexOf(':');
          const field = colon < 0 ? text : text.slice(0, colon);
          const content = colon < 0 ? '' : text.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event.type = content;
          else if (field === 'data') event.data.push(content);
        }
      }
    }
  } catch (error) {
    if (signal.aborted) throw error;
    // Whatever broke the stream (the network, an event that is no JSON, `onResult`) ends it.
    reader.cancel().catch(() => {});
    if (error instanceof ApiError) throw error;
    throw new ApiError(error.message, { kind: error instanceof SyntaxError ? 'refused' : 'offline' });
  }
}

/**
 * Releases published from now on (or after the event whose cursor is `$after`) that match
 * `$filter`, one event each; their ids are those of `releases`' nodes.
 */
export const NEW_RELEASES = `subscription NewReleases($filter: ReleaseFilter, $after: String) {
  releaseEvents(filter: $filter, kinds: [PUBLISHED], after: $after) { kind cursor releaseId }
}`;

/**
 * What the filters offer: the programmes and offices, the years, and the archive's first and
 * last days (two one-row pages), which bound the date fields.
 */
export const CATALOGUE = `query Catalogue {
  programmes { slug name acronym description }
  offices { slug name }
  archive: releaseFacets { years { year count } }
  oldest: releases(first: 1, orderBy: OLDEST_FIRST) { nodes { publishedOn } }
  newest: releases(first: 1, orderBy: NEWEST_FIRST) { nodes { publishedOn } }
}`;

/**
 * How many programme series one request asks for: the server refuses documents with more than
 * 15 aliases by default (MAX_ALIASES), and the facets take one more.
 */
export const SERIES_PER_REQUEST = 10;

/**
 * A query for counts per month: `facets` (when `withFacets`) counts the releases matching
 * `$filter`, by month, programme and office; each alias `p<i>` counts by month the releases
 * matching `$p<i>` (the filter narrowed to one programme). The chart thus costs one request per
 * few programmes, and never a download of the releases themselves.
 */
export function countsQuery(withFacets, seriesCount) {
  const parameters = [];
  const fields = [];
  if (withFacets) {
    parameters.push('$filter: ReleaseFilter');
    fields.push(`facets: releaseFacets(filter: $filter) {
    total
    years { year count }
    months { year month count }
    programmes { programme { slug } count }
    offices { office { slug } count }
  }`);
  }
  for (let i = 0; i < seriesCount; i += 1) {
    parameters.push(`$p${i}: ReleaseFilter`);
    fields.push(`p${i}: releaseFacets(filter: $p${i}) { months { year month count } }`);
  }
  return `query Counts(${parameters.join(', ')}) {\n  ${fields.join('\n  ')}\n}`;
}

/** A page of releases; `highlight` only when searching, as the API gives it only then. */
export const RELEASES = `query Releases(
  $filter: ReleaseFilter, $orderBy: ReleaseOrder,
  $first: Int, $after: String, $last: Int, $before: String, $searching: Boolean!
) {
  releases(filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes {
      id slug title publishedOn summary
      highlight @include(if: $searching)
      programmes { slug name acronym }
    }
  }
}`;
