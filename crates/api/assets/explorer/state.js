/**
 * The explorer's state lives in the URL fragment, so that any view can be bookmarked, shared and
 * reached with the back button:
 *   #/?programmes=score,healthwise&office=beijing&from=2017-01-01&to=2021-12-31&q=skills&order=OLDEST_FIRST&after=<cursor>
 *   #/release/<slug>
 */

export const ORDERS = ['NEWEST_FIRST', 'OLDEST_FIRST', 'RELEVANCE'];

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Filters that show every release, newest first, from the first page. */
export function emptyList() {
  return {
    view: 'list',
    programmes: [],
    office: '',
    from: '',
    to: '',
    q: '',
    order: 'NEWEST_FIRST',
    after: '',
    before: '',
  };
}

/** The view that `hash` (e.g. `location.hash`) describes; anything unreadable is left out. */
export function parseHash(hash) {
  const path = hash.replace(/^#/, '');
  const release = /^\/release\/([^?#]+)/.exec(path);
  if (release) {
    return { view: 'release', slug: safeDecode(release[1]) };
  }
  const query = path.includes('?') ? path.slice(path.indexOf('?') + 1) : '';
  const params = new URLSearchParams(query);
  const state = emptyList();
  state.programmes = (params.get('programmes') ?? '').split(',').filter(Boolean);
  state.office = params.get('office') ?? '';
  state.from = DATE.test(params.get('from') ?? '') ? params.get('from') : '';
  state.to = DATE.test(params.get('to') ?? '') ? params.get('to') : '';
  state.q = params.get('q') ?? '';
  state.order = ORDERS.includes(params.get('order')) ? params.get('order') : 'NEWEST_FIRST';
  state.after = params.get('after') ?? '';
  // A page is reached from one side only; `after` wins if a hand-made URL gives both.
  state.before = state.after ? '' : params.get('before') ?? '';
  return state;
}

/** The fragment of a list view; default values are left out to keep shared links short. */
export function listHash(state) {
  const params = new URLSearchParams();
  if (state.programmes.length) params.set('programmes', state.programmes.join(','));
  if (state.office) params.set('office', state.office);
  if (state.from) params.set('from', state.from);
  if (state.to) params.set('to', state.to);
  if (state.q) params.set('q', state.q);
  if (state.order !== 'NEWEST_FIRST') params.set('order', state.order);
  if (state.after) params.set('after', state.after);
  else if (state.before) params.set('before', state.before);
  const query = params.toString();
  return query ? `#/?${query}` : '#/';
}

/** The fragment of a release's page. */
export function releaseHash(slug) {
  return `#/release/${encodeURIComponent(slug)}`;
}

/** The API's `ReleaseFilter` for the list's filters (the page cursors are not part of it). */
export function toFilter(state) {
  const filter = {};
  if (state.programmes.length) filter.programmes = state.programmes;
  if (state.office) filter.offices = [state.office];
  if (state.from) filter.publishedFrom = state.from;
  if (state.to) filter.publishedTo = state.to;
  if (state.q.trim()) filter.search = state.q.trim();
  return filter;
}

function safeDecode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
