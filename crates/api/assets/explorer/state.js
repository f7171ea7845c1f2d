/**
 * The explorer's state lives in the URL fragment, so that any view can be bookmarked, shared and
 * reached with the back button:
 *   #/?programmes=score,healthwise&office=beijing&year=2021&month=6&from=2017-01-01&to=2021-12-31
 *     &q=skills&order=OLDEST_FIRST&page=2&after=<cursor>
 * Anything in it that cannot be used (a date that does not exist, a programme the archive does
 * not have…) is left out, and explained in words, so that a mistyped or outdated link still
 * shows what it can. Releases have addresses of their own, `/releases/<slug>`; the fragment
 * `#/release/<slug>` of earlier versions still names one.
 */

export const ORDERS = ['NEWEST_FIRST', 'OLDEST_FIRST', 'RELEVANCE'];
const ORDER_NAMES = { NEWEST_FIRST: 'newest first', OLDEST_FIRST: 'oldest first', RELEVANCE: 'best match first' };

/** The API refuses longer searches. */
export const MAX_SEARCH_LENGTH = 500;

export const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
  'September', 'October', 'November', 'December'];

/** Where the server serves the feeds; `feedUrl` adds the filters. */
const FEED_PATH = '/feeds/releases.atom';

/** Filters that show every release, newest first, from the first page. */
export function emptyList() {
  return {
    programmes: [],
    office: '',
    year: null,
    month: null,
    from: '',
    to: '',
    q: '',
    order: 'NEWEST_FIRST',
    after: '',
    before: '',
    // The page's number, for "21–40 of 53": cursors are opaque, so the position travels beside
    // them. null when a link gives a cursor without it.
    page: 1,
  };
}

/** "2020-02-30" is shaped like a date but is none. */
export function isDate(text) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const [year, month, day] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return year >= 1 && date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** Why `state`'s dates cannot be used together, in words; null when they can. */
export function reversedRange(state) {
  if (!state.from || !state.to || state.from <= state.to) return null;
  return `“From” (${state.from}) is after “To” (${state.to}): no release can be in between, `
    + 'so the dates are left out. Swap them, or clear one of them.';
}

/**
 * The view that `hash` (e.g. `location.hash`) describes: `{ view: 'release', slug }` for an
 * address of earlier versions, otherwise `{ view: 'list', state, notices }` where `notices`
 * explains in words each part of the fragment that was left out. Slugs are checked against
 * `catalogue` ({ programmes, offices }) when given.
 */
export function parseHash(hash, catalogue = null) {
  const path = hash.replace(/^#/, '');
  const release = /^\/release\/([^?#]+)/.exec(path);
  if (release) return { view: 'release', slug: safeDecode(release[1]) };

  const params = new URLSearchParams(path.includes('?') ? path.slice(path.indexOf('?') + 1) : '');
  const state = emptyList();
  const notices = [];
  const leftOut = (text) => notices.push(text);
  const known = (kind, slug) => !catalogue || catalogue[kind].some((item) => item.slug === slug);

  for (const slug of new Set((params.get('programmes') ?? '').split(',').filter(Boolean))) {
    if (known('programmes', slug)) state.programmes.push(slug);
    else leftOut(`The address names a programme “${slug}” that the archive does not have, so it is left out.`);
  }
  const office = params.get('office') ?? '';
  if (office && known('offices', office)) state.office = office;
  else if (office) leftOut(`The address names an office “${office}” that the archive does not have, so it is left out.`);

  for (const [key, label] of [['from', 'From'], ['to', 'To']]) {
    const value = params.get(key) ?? '';
    if (isDate(value)) state[key] = value;
    else if (value) {
      leftOut(`The address gives “${label}” as “${value}”, which is not a date (year-month-day, `
        + 'e.g. 2020-01-31), so it is left out.');
    }
  }

  const year = params.get('year') ?? '';
  if (/^\d{4}$/.test(year) && Number(year) >= 1) state.year = Number(year);
  else if (year) leftOut(`The address asks for the year “${year}”, which is not a year (e.g. 2021), so it is left out.`);
  const month = params.get('month') ?? '';
  if (month && !(/^\d{1,2}$/.test(month) && Number(month) >= 1 && Number(month) <= 12)) {
    leftOut(`The address asks for the month “${month}”, which is not a month (1 for January to 12 for December), so it is left out.`);
  } else if (month && state.year === null) {
    leftOut(`The address asks for ${MONTHS[Number(month) - 1]} without a year, so the month is left out.`);
  } else if (month) {
    state.month = Number(month);
  }

  const q = params.get('q') ?? '';
  state.q = q.slice(0, MAX_SEARCH_LENGTH);
  if (q.length > MAX_SEARCH_LENGTH) {
    leftOut(`The search in the address is ${q.length} characters long; only its first ${MAX_SEARCH_LENGTH} are searched for.`);
  }

  const order = params.get('order');
  if (ORDERS.includes(order)) state.order = order;
  else if (order) leftOut(`The address asks for the order “${order}”, which the list does not offer, so it shows the newest first.`);

  state.after = params.get('after') ?? '';
  // A page is reached from one side only; `after` wins if a hand-made URL gives both.
  state.before = state.after ? '' : params.get('before') ?? '';
  const page = params.get('page') ?? '';
  if (!state.after && !state.before) state.page = 1;
  else if (/^\d{1,6}$/.test(page) && Number(page) >= 1) state.page = Number(page);
  else state.page = null;

  return { view: 'list', state, notices };
}

/** The fragment of a list view; default values are left out to keep shared links short. */
export function listHash(state) {
  const params = new URLSearchParams();
  if (state.programmes.length) params.set('programmes', state.programmes.join(','));
  if (state.office) params.set('office', state.office);
  if (state.year !== null) params.set('year', String(state.year));
  if (state.year !== null && state.month !== null) params.set('month', String(state.month));
  if (state.from) params.set('from', state.from);
  if (state.to) params.set('to', state.to);
  if (state.q) params.set('q', state.q);
  if (state.order !== 'NEWEST_FIRST') params.set('order', state.order);
  if (state.after || state.before) {
    if (state.page !== null && state.page > 1) params.set('page', String(state.page));
    if (state.after) params.set('after', state.after);
    else params.set('before', state.before);
  }
  const query = params.toString();
  return query ? `#/?${query}` : '#/';
}

/** The same list from its first page. */
export function firstPage(state) {
  return { ...state, after: '', before: '', page: 1 };
}

/** Whether two states show the same releases in the same order (perhaps another page of them). */
export function sameList(a, b) {
  return JSON.stringify(toFilter(a)) === JSON.stringify(toFilter(b)) && a.order === b.order;
}

/** A release's own page on the server. */
export function releaseHref(slug) {
  return `/releases/${encodeURIComponent(slug)}`;
}

/** The API's `ReleaseFilter` for the list's filters (the page cursors are not part of it). */
export function toFilter(state) {
  const filter = {};
  if (state.programmes.length) filter.programmes = state.programmes;
  if (state.office) filter.offices = [state.office];
  if (!reversedRange(state)) {
    if (state.from) filter.publishedFrom = state.from;
    if (state.to) filter.publishedTo = state.to;
  }
  if (state.year !== null) filter.year = state.year;
  if (state.year !== null && state.month !== null) filter.month = state.month;
  if (state.q.trim()) filter.search = state.q.trim();
  return filter;
}

/**
 * The first and last day the list can show, as "YYYY-MM-DD" ('' when open): the date range
 * narrowed by the year and month. The API applies both; a feed only knows dates.
 */
export function dateBounds(state) {
  let from = reversedRange(state) ? '' : state.from;
  let to = reversedRange(state) ? '' : state.to;
  if (state.year !== null) {
    const year = String(state.year).padStart(4, '0');
    const first = state.month !== null ? state.month : 1;
    const last = state.month !== null ? state.month : 12;
    const lastDay = new Date(Date.UTC(state.year, last, 0)).getUTCDate();
    const start = `${year}-${String(first).padStart(2, '0')}-01`;
    const end = `${year}-${String(last).padStart(2, '0')}-${String(lastDay).padStart(2, '0')}`;
    if (!from || from < start) from = start;
    if (!to || to > end) to = end;
  }
  return { from, to };
}

/** The Atom feed of the releases that `state` lists (the server's `/feeds/releases.atom`). */
export function feedUrl(state) {
  const params = new URLSearchParams();
  for (const programme of state.programmes) params.append('programme', programme);
  if (state.office) params.append('office', state.office);
  const { from, to } = dateBounds(state);
  if (from) params.set('from', from);
  if (to) params.set('to', to);
  if (state.q.trim()) params.set('search', state.q.trim());
  const query = params.toString();
  return query ? `${FEED_PATH}?${query}` : FEED_PATH;
}

/**
 * The filters of `state` in a few words, for titles: "SCORE and UNJP · Beijing · June 2021 ·
 * “skills”"; '' with no filter. `catalogue` gives programmes' and offices' names.
 */
export function describeFilters(state, catalogue) {
  const parts = [];
  const programmeLabel = (slug) => {
    const programme = catalogue.programmes.find((p) => p.slug === slug);
    return programme ? programme.acronym || programme.name : slug;
  };
  if (state.programmes.length) {
    const labels = state.programmes.map(programmeLabel);
    parts.push(labels.length > 1 ? `${labels.slice(0, -1).join(', ')} and ${labels.at(-1)}` : labels[0]);
  }
  if (state.office) {
    parts.push(catalogue.offices.find((o) => o.slug === state.office)?.name ?? state.office);
  }
  if (state.year !== null) parts.push(state.month !== null ? `${MONTHS[state.month - 1]} ${state.year}` : String(state.year));
  if (!reversedRange(state) && (state.from || state.to)) {
    parts.push(state.from && state.to ? `${state.from} to ${state.to}` : state.from ? `from ${state.from}` : `until ${state.to}`);
  }
  if (state.q.trim()) parts.push(`“${state.q.trim()}”`);
  return parts.join(' · ');
}

/** The order's name in words, e.g. "oldest first". */
export function orderName(order) {
  return ORDER_NAMES[order];
}

function safeDecode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
