/**
 * The archive explorer: filters (search, programmes, office, year and month, dates), a timeline
 * of releases stacked by programme whose bars filter the list, and a page of releases, each
 * linking to its own page on the server (`/releases/<slug>`), with a notice of the releases
 * published meanwhile that match the filters (live.js). Everything it shows comes from the public
 * GraphQL API; the URL fragment holds the whole state (see state.js).
 */

import { CATALOGUE, RELEASES, SERIES_PER_REQUEST, countsQuery, graphql } from './api.js';
import { legend, monthIndex, timeline } from './chart.js';
import { $, formatDate, h, replace } from './dom.js';
import { followNewReleases } from './live.js';
import { offerSuggestions } from './suggest.js';
import {
  MONTHS, dateBounds, describeFilters, emptyList, feedUrl, firstPage, listHash, parseHash, releaseHref,
  reversedRange, sameList, toFilter,
} from './state.js';

const PAGE_SIZE = 20;
const SEARCH_DELAY_MS = 300;
const TITLE = 'Press releases · ILO China and Mongolia';
/** Where the list last shown is kept, for the back link of a release's page (page.js). */
const LAST_LIST_KEY = 'explorer:last-list';
/** Series colours (Tableau 10, the palest darkened), given to programmes in catalogue order so each keeps its own. */
const COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1',
  '#d37295', '#9c755f', '#79706e'];
const ALL_RELEASES_COLOUR = '#52606d';
/** Narrow windows: the filters fold above the results, and bars must be wide enough for a finger. */
const NARROW = window.matchMedia('(max-width: 47.99rem)');
const COARSE_POINTER = window.matchMedia('(pointer: coarse)');
/** The narrowest bar worth pointing at, in CSS pixels, with a mouse and with a finger. */
const MIN_BAR = { mouse: 10, finger: 22 };

const ui = {
  form: $('#filters'),
  panel: $('#filter-panel'),
  panelSummary: $('#filter-summary'),
  search: $('#search'),
  programmes: $('#programme-options'),
  descriptions: $('#programme-descriptions'),
  office: $('#office'),
  year: $('#year'),
  month: $('#month'),
  from: $('#from'),
  to: $('#to'),
  rangeError: $('#range-error'),
  order: $('#order'),
  showResults: $('#show-results'),
  activeFilters: $('#active-filters'),
  chart: $('#chart'),
  chartHeading: $('#chart-heading'),
  chartNote: $('#chart-note'),
  heading: $('#results-heading'),
  feedLink: $('#feed-link'),
  feedAlternate: $('#feed-alternate'),
  notices: $('#notices'),
  liveNotice: $('#live-notice'),
  status: $('#status'),
  error: $('#error'),
  errorText: $('#error-text'),
  retry: $('#retry'),
  empty: $('#empty'),
  clearFilters: $('#clear-filters'),
  list: $('#release-list'),
  pager: $('#pager'),
};

/**
 * Programmes and offices, the archive's years and its first and last days; filled once at
 * start. `first` and `last` are '' when the archive is empty.
 */
let catalogue = null;
/** The state on screen. */
let shown = null;
/** Explanations of what the address asked for and the view leaves out. */
let notices = [];
/** Filter whose counts are on screen, so that paging does not fetch them again. */
let countsKey = null;
/** The last chart's series, redrawn at the new width when the window is resized. */
let chartSeries = null;
/** The period whose bar was chosen, to give it the focus in the chart that follows. */
let chartFocus = null;
/** What "Try again" does: the last thing that failed. */
let retry = () => route();
/** Each load bumps its counter; answers to an older request are dropped. */
const latest = { list: 0, counts: 0 };
/** The subscription to new releases matching the filters on screen, and those filters (JSON). */
let live = null;
let liveKey = null;

ui.retry.addEventListener('click', () => retry());
if (!redirectRelease()) start();

/** Earlier versions showed a release at `#/release/<slug>`: it now has an address of its own. */
function redirectRelease() {
  const parsed = parseHash(window.location.hash);
  if (parsed.view !== 'release') return false;
  window.location.replace(releaseHref(parsed.slug));
  return true;
}

async function start() {
  let data;
  try {
    data = await graphql(CATALOGUE);
  } catch (error) {
    retry = start;
    showError(error);
    ui.status.textContent = '';
    replace(ui.list);
    ui.list.removeAttribute('aria-busy');
    replace(ui.chart, h('p', { class: 'empty' }, 'The chart is not available.'));
    return;
  }
  hideError();
  catalogue = {
    programmes: data.programmes,
    offices: data.offices,
    years: data.archive.years,
    first: data.oldest.nodes[0]?.publishedOn ?? '',
    last: data.newest.nodes[0]?.publishedOn ?? '',
  };
  buildFilters();
  // On a phone the filters start folded, below their summary, so the releases show first.
  if (NARROW.matches) ui.panel.open = false;
  window.addEventListener('hashchange', () => {
    if (!redirectRelease()) route();
  });
  window.addEventListener('resize', debounce(drawChart, 150));
  route();
}

/** Shows what the URL fragment describes. */
function route() {
  retry = route;
  const parsed = parseHash(window.location.hash, catalogue);
  const { state } = parsed;
  notices = parsed.notices;
  // The address then names what is shown; the explanations stay until the next view.
  if (notices.length) window.history.replaceState(null, '', listHash(state));
  remember(listHash(state));
  showList(state);
}

/** Keeps the list's address for the back link of a release's page, when the browser lets us. */
function remember(hash) {
  try {
    window.sessionStorage.setItem(LAST_LIST_KEY, hash);
  } catch {
    // Storage refused (private mode, or disabled): the back link then leads to the first view.
  }
}

// ------------------------------------------------------------------------------ filters ---

function buildFilters() {
  const byLabel = [...catalogue.programmes]
    .sort((a, b) => programmeLabel(a).localeCompare(programmeLabel(b), 'en'));
  replace(ui.programmes, byLabel.map((programme) =>
    h('li', {},
      h('input', { type: 'checkbox', id: `programme-${programme.slug}`, name: 'programmes', value: programme.slug }),
      h('label', { for: `programme-${programme.slug}` },
        h('span', { class: 'option-name' }, programmeName(programme), ' ',
          h('span', { class: 'count', dataset: { programme: programme.slug } })),
        programme.acronym && h('span', { class: 'full-name' }, programme.name)))));
  replace(ui.descriptions, byLabel.map((programme) => [
    h('dt', {}, programme.acronym ? [h('abbr', { title: programme.name }, programme.acronym), ': '] : null, programme.name),
    h('dd', {},
      programme.description && h('p', {}, programme.description),
      h('a', { href: `/programmes/${encodeURIComponent(programme.slug)}` },
        'More about ', programme.acronym ? h('abbr', { title: programme.name }, programme.acronym) : programme.name)),
  ]));
  replace(ui.office, h('option', { value: '' }, 'Any office'),
    catalogue.offices.map((office) => h('option', { value: office.slug }, office.name)));
  fillYears(catalogue.years, null);
  replace(ui.month, h('option', { value: '' }, 'Any month'),
    MONTHS.map((name, i) => h('option', { value: String(i + 1) }, name)));
  if (catalogue.first) {
    ui.from.min = catalogue.first;
    ui.to.min = catalogue.first;
    ui.from.max = catalogue.last;
    ui.to.max = catalogue.last;
  }

  ui.form.addEventListener('change', (event) => {
    if (event.target === ui.search) return;
    // A month belongs to a year: choosing "Any year" drops it too.
    if (event.target === ui.year && !ui.year.value) ui.month.value = '';
    navigate(readFilters());
  });
  const searchLater = debounce(() => navigate(readFilters(), { replace: true }), SEARCH_DELAY_MS);
  ui.search.addEventListener('input', searchLater);
  offerSuggestions(ui.search, {
    filter: () => toFilter({ ...readFilters(), q: '' }),
    choose: () => navigate(readFilters()),
  });
  ui.form.addEventListener('submit', (event) => {
    event.preventDefault();
    navigate(readFilters());
  });
  ui.form.addEventListener('reset', (event) => {
    event.preventDefault();
    navigate(emptyList());
  });
  ui.clearFilters.addEventListener('click', () => {
    navigate(emptyList());
    ui.heading.focus();
  });
  ui.showResults.addEventListener('click', () => {
    ui.panel.open = false;
    toResults();
  });
  // A fragment link would be taken for a view: the skip link moves the focus itself.
  $('a.skip').addEventListener('click', (event) => {
    event.preventDefault();
    toResults();
  });
}

/** The filters as the form shows them, from the first page. */
function readFilters() {
  const state = emptyList();
  state.programmes = [...ui.programmes.querySelectorAll('input:checked')].map((input) => input.value);
  state.office = ui.office.value;
  state.year = ui.year.value ? Number(ui.year.value) : null;
  state.month = state.year !== null && ui.month.value ? Number(ui.month.value) : null;
  state.from = ui.from.value;
  state.to = ui.to.value;
  state.q = ui.search.value;
  state.order = ui.order.value;
  return state;
}

/** Puts the form in line with `state` (after the back button or a shared link). */
function writeFilters(state) {
  for (const input of ui.programmes.querySelectorAll('input')) {
    input.checked = state.programmes.includes(input.value);
  }
  ui.office.value = state.office;
  if (state.year !== null && !ui.year.querySelector(`option[value="${state.year}"]`)) fillYears(catalogue.years, state.year);
  ui.year.value = state.year === null ? '' : String(state.year);
  ui.month.disabled = state.year === null;
  ui.month.value = state.month === null ? '' : String(state.month);
  ui.from.value = state.from;
  ui.to.value = state.to;
  // A reversed range cannot be picked: each date bounds the other (and the archive both).
  ui.from.max = state.to || catalogue.last;
  ui.to.min = state.from || catalogue.first;
  // Said beside the fields, where they are typed, and above the results (showNotices).
  const reversed = reversedRange(state);
  ui.rangeError.textContent = reversed ?? '';
  ui.rangeError.hidden = !reversed;
  for (const input of [ui.from, ui.to]) {
    if (reversed) {
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('aria-describedby', 'range-error');
    } else {
      input.removeAttribute('aria-invalid');
      input.removeAttribute('aria-describedby');
    }
  }
  ui.order.value = state.order;
  // Not while typing: the field would lose what was typed since the last request.
  if (document.activeElement !== ui.search) ui.search.value = state.q;
  const chosen = chips(state).length;
  ui.panelSummary.textContent = chosen ? `Filters (${chosen} active)` : 'Filters';
}

/** The year options, each with its count when known; `extra` is a chosen year the counts lack. */
function fillYears(years, extra, { counted = false } = {}) {
  const all = new Map(years.map((y) => [y.year, y.count]));
  if (extra !== null && !all.has(extra)) all.set(extra, 0);
  const chosen = ui.year.value;
  replace(ui.year, h('option', { value: '' }, 'Any year'),
    [...all].sort((a, b) => b[0] - a[0]).map(([year, count]) =>
      h('option', { value: String(year) }, counted ? `${year} (${count})` : String(year))));
  ui.year.value = chosen;
}

/**
 * The active filters as removable chips: [{ label, name, without }] where `label` is what the
 * chip shows, `name` what it says to screen readers, `without(state)` the state without it.
 */
function chips(state) {
  const list = [];
  for (const slug of state.programmes) {
    const programme = catalogue.programmes.find((p) => p.slug === slug);
    list.push({
      label: programmeName(programme),
      name: `Remove programme ${programmeLabel(programme)}`,
      without: (s) => ({ ...s, programmes: s.programmes.filter((p) => p !== slug) }),
    });
  }
  if (state.office) {
    const office = catalogue.offices.find((o) => o.slug === state.office);
    list.push({ label: office.name, name: `Remove office ${office.name}`, without: (s) => ({ ...s, office: '' }) });
  }
  if (state.year !== null) {
    const when = state.month !== null ? `${MONTHS[state.month - 1]} ${state.year}` : String(state.year);
    list.push({ label: when, name: `Remove ${when}`, without: (s) => ({ ...s, year: null, month: null }) });
  }
  if (state.from) list.push({ label: `From ${state.from}`, name: `Remove the date From ${state.from}`, without: (s) => ({ ...s, from: '' }) });
  if (state.to) list.push({ label: `To ${state.to}`, name: `Remove the date To ${state.to}`, without: (s) => ({ ...s, to: '' }) });
  if (state.q.trim()) {
    list.push({ label: `“${state.q.trim()}”`, name: `Remove the search “${state.q.trim()}”`, without: (s) => ({ ...s, q: '' }) });
  }
  return list;
}

/** The chips of `state`; the style sheet shows them while the filters are folded. */
function showChips(state) {
  if (!state) return;
  const list = chips(state);
  ui.activeFilters.hidden = list.length === 0;
  replace(ui.activeFilters, list.map((chip, i) => h('li', {},
    h('button', {
      type: 'button', class: 'chip remove', 'aria-label': chip.name, dataset: { chip: String(i) },
      onclick: () => {
        navigate(firstPage(chip.without(shown)));
        // The chip is gone: the focus goes to the next one, or to the filters' summary.
        requestAnimationFrame(() => {
          const next = ui.activeFilters.querySelectorAll('button')[i] ?? ui.activeFilters.querySelector('button:last-of-type');
          (next ?? ui.panelSummary).focus();
        });
      },
    }, chip.label, h('span', { class: 'remove-mark', 'aria-hidden': 'true' }, ' ×')))));
}

/** Goes to the list view of `state`; `replace` keeps the browser history from growing as one types. */
function navigate(state, { replace: replaceEntry = false } = {}) {
  const hash = listHash(state);
  if (replaceEntry) {
    window.history.replaceState(null, '', hash);
    route();
  } else if (hash !== window.location.hash) {
    window.location.hash = hash;
  } else {
    route();
  }
}

/** Moves to the top of the results, with the focus on their heading. */
function toResults() {
  ui.heading.focus({ preventScroll: true });
  ui.heading.closest('section').scrollIntoView({ block: 'start' });
}

// --------------------------------------------------------------------------------- list ---

function showList(state) {
  const previous = shown;
  shown = state;
  writeFilters(state);
  showChips(state);
  showNotices();
  showFeed(state);
  const described = describeFilters(state, catalogue);
  document.title = described ? `${described} · ${TITLE}` : TITLE;
  const key = JSON.stringify(toFilter(state));
  followLive(state, key);
  if (key !== countsKey) loadCounts(state, key);
  else chartFocus = null;
  // Another page of the same list: the reader moves on to its top, as on a new page.
  const turnedPage = previous !== null && sameList(previous, state)
    && (previous.after !== state.after || previous.before !== state.before);
  loadList(state, { turnedPage });
}

async function loadList(state, { turnedPage }) {
  const ticket = ++latest.list;
  const filter = toFilter(state);
  const searching = Boolean(filter.search);
  // Best-match order needs words to match; without a search the newest come first.
  const orderBy = state.order === 'RELEVANCE' && !searching ? 'NEWEST_FIRST' : state.order;
  const page = state.before ? { last: PAGE_SIZE, before: state.before } : { first: PAGE_SIZE, after: state.after || undefined };
  ui.list.setAttribute('aria-busy', 'true');
  try {
    const { releases } = await graphql(RELEASES, { filter, orderBy, searching, ...page });
    if (ticket !== latest.list) return;
    hideError();
    renderList(releases, state, searching);
    if (turnedPage) toResults();
  } catch (error) {
    if (ticket !== latest.list) return;
    // Every filter was checked before asking, so a refusal names the page's cursor (outdated,
    // or mangled in a copied link): the same list from its first page still answers.
    if (error.kind === 'input' && (state.after || state.before)) {
      notices = [...notices, 'The address names a page of the list that cannot be found (the link may be '
        + 'incomplete or from an older version of the list), so the first page is shown.'];
      shown = firstPage(state);
      window.history.replaceState(null, '', listHash(shown));
      remember(listHash(shown));
      showNotices();
      loadList(shown, { turnedPage: false });
      return;
    }
    retry = route;
    showError(error);
    ui.status.textContent = '';
    ui.empty.hidden = true;
    replace(ui.list);
    replace(ui.pager);
    // The reader, at the foot of the list, would not see why the next page is missing.
    if (turnedPage) toResults();
  } finally {
    if (ticket === latest.list) ui.list.removeAttribute('aria-busy');
  }
}

function renderList(releases, state, searching) {
  const { totalCount, pageInfo, nodes } = releases;
  // A page reached backwards to the start is the first, whatever the address said.
  const pageNumber = pageInfo.hasPreviousPage ? state.page : 1;
  ui.status.textContent = statusText(totalCount, nodes.length, pageNumber);
  ui.showResults.textContent = `Show ${totalCount} ${totalCount === 1 ? 'release' : 'releases'}`;
  ui.empty.hidden = totalCount !== 0;
  ui.clearFilters.hidden = chips(state).length === 0;
  replace(ui.list, nodes.map((release) => h('li', { dataset: { id: release.id, slug: release.slug } },
    h('article', {},
      h('h3', {}, h('a', { href: releaseHref(release.slug) }, release.title)),
      h('p', { class: 'meta' },
        h('time', { datetime: release.publishedOn }, formatDate(release.publishedOn)),
        release.programmes.map((programme) => [' ', programmeChip(programme)])),
      searching && release.highlight
        ? h('p', { class: 'summary' }, highlighted(release.highlight))
        : release.summary && h('p', { class: 'summary' }, release.summary)))));
  const pageLink = (label, cursor, rel) => cursor
    ? h('a', { href: listHash({ ...state, after: '', before: '', ...cursor }), rel, class: 'button' }, label)
    : h('span', { class: 'button', 'aria-disabled': 'true' }, label);
  const next = pageNumber === null ? null : pageNumber + 1;
  const before = pageNumber === null ? null : Math.max(pageNumber - 1, 1);
  replace(ui.pager,
    pageLink('← Previous page', pageInfo.hasPreviousPage && { before: pageInfo.startCursor, page: before }, 'prev'),
    pageLink('Next page →', pageInfo.hasNextPage && { after: pageInfo.endCursor, page: next }, 'next'));
  // A new release the reader now sees is new no more.
  live?.seen(nodes.map((release) => release.id));
}

/** "21–40 of 53 releases"; without the page's number, "20 of 53 releases". */
function statusText(total, shownCount, pageNumber) {
  if (total === 0) return 'No release matches these filters.';
  if (total === 1) return '1 release';
  if (pageNumber === null) return `${shownCount} of ${total} releases`;
  const first = (pageNumber - 1) * PAGE_SIZE + 1;
  return `${first}–${first + shownCount - 1} of ${total} releases`;
}

/** A programme's name on a release, linking to its releases. */
function programmeChip(programme) {
  return h('a', { class: 'chip', href: listHash({ ...emptyList(), programmes: [programme.slug] }) },
    programmeName(programme));
}

/**
 * The API's highlight (HTML-escaped text with <mark> around matches) as DOM nodes: only text
 * and <mark> are kept, whatever else the markup might hold.
 */
function highlighted(html) {
  const body = new DOMParser().parseFromString(`<body>${html}</body>`, 'text/html').body;
  return [...body.childNodes].map((node) =>
    node.nodeName === 'MARK' ? h('mark', {}, node.textContent) : node.textContent);
}

/** What the view leaves out of the address, and a reversed date range, in words. */
function showNotices() {
  const range = shown && reversedRange(shown);
  replace(ui.notices, (range || notices.length > 0) && h('ul', {},
    range && h('li', {}, range),
    notices.map((text) => h('li', {}, text))));
}

// ------------------------------------------------------------------------ new releases ---

/** Follows the releases published from now on that match the filters `key` (of `state`): a new filter starts over. */
function followLive(state, key) {
  if (key === liveKey) return;
  live?.stop();
  liveKey = key;
  showNewCount(0);
  live = followNewReleases(toFilter(state), showNewCount);
}

/**
 * "2 new releases — show them" above the list, in a polite live region (#live-notice): added
 * when the first comes, its words changed as more do (so a focused button keeps the focus),
 * removed when none is left. Never takes the focus.
 */
function showNewCount(count) {
  if (count === 0) {
    replace(ui.liveNotice);
    return;
  }
  const text = count === 1 ? '1 new release — show it' : `${count} new releases — show them`;
  const button = ui.liveNotice.querySelector('button');
  if (button) {
    button.textContent = text;
  } else {
    replace(ui.liveNotice, h('p', {}, h('button', { type: 'button', id: 'show-new', onclick: showNew }, text)));
  }
}

/** The first page of the view again, with the new releases, its chart and counts. */
function showNew() {
  // The button goes away: the focus goes to the list's heading rather than to nothing.
  ui.heading.focus({ preventScroll: true });
  live?.clear();
  countsKey = null;
  navigate(firstPage(shown));
}

/** The feed of what the list shows, in the page's head and beside the results. */
function showFeed(state) {
  const href = feedUrl(state);
  const described = describeFilters(state, catalogue);
  ui.feedAlternate.href = href;
  ui.feedAlternate.title = described ? `Press releases: ${described}` : 'Press releases · ILO China and Mongolia';
  ui.feedLink.href = href;
}

// ------------------------------------------------------------------------------- counts ---

/**
 * Counts for the chart and for the filter options. With programmes chosen, each is a series,
 * counted by one aliased `releaseFacets` per programme; otherwise the series is all releases.
 */
async function loadCounts(state, key) {
  const ticket = ++latest.counts;
  countsKey = key;
  const filter = toFilter(state);
  const chosen = catalogue.programmes.filter((programme) => state.programmes.includes(programme.slug));
  ui.chart.setAttribute('aria-busy', 'true');
  try {
    const requests = [];
    for (let start = 0; start === 0 || start < chosen.length; start += SERIES_PER_REQUEST) {
      const batch = chosen.slice(start, start + SERIES_PER_REQUEST);
      const variables = { filter };
      batch.forEach((programme, i) => { variables[`p${i}`] = { ...filter, programmes: [programme.slug] }; });
      requests.push(graphql(countsQuery(start === 0, batch.length), variables)
        .then((data) => batch.map((_, i) => data[`p${i}`].months).concat(start === 0 ? [data.facets] : [])));
    }
    const answers = (await Promise.all(requests));
    if (ticket !== latest.counts) return;
    const facets = answers[0].pop();
    const months = answers.flat();
    showCounts(facets, state);
    chartSeries = chosen.length
      ? chosen.map((programme, i) => ({
        key: programme.slug,
        label: programmeLabel(programme),
        name: programme.name,
        color: COLOURS[catalogue.programmes.indexOf(programme) % COLOURS.length],
        counts: months[i],
      }))
      : [{ key: 'all', label: 'All releases', name: 'All releases', color: ALL_RELEASES_COLOUR, counts: facets.months }];
    ui.chartNote.textContent = chosen.length > 1
      ? 'Stacked by programme: a release about several of the chosen programmes counts once for each.'
      : '';
    drawChart();
  } catch (error) {
    if (ticket !== latest.counts) return;
    countsKey = null;
    chartSeries = null;
    showCounts(null, state);
    replace(ui.chart, h('p', { class: 'empty' }, 'The chart is not available.'));
    retry = route;
    showError(error); // usually the list fails too, with the same reason
  } finally {
    if (ticket === latest.counts) ui.chart.removeAttribute('aria-busy');
  }
}

/** The number of releases next to each programme, office, year and month, were it chosen; none when `facets` is null. */
function showCounts(facets, state) {
  const known = facets !== null;
  const programmes = new Map((facets?.programmes ?? []).map((c) => [c.programme.slug, c.count]));
  for (const span of ui.programmes.querySelectorAll('.count')) {
    span.textContent = known ? `(${programmes.get(span.dataset.programme) ?? 0})` : '';
  }
  const offices = new Map((facets?.offices ?? []).map((c) => [c.office.slug, c.count]));
  for (const option of ui.office.options) {
    const office = catalogue.offices.find((o) => o.slug === option.value);
    if (office) option.textContent = known ? `${office.name} (${offices.get(office.slug) ?? 0})` : office.name;
  }
  if (known) fillYears(facets.years, state.year, { counted: true });
  // The months are counted within the chosen year only.
  const months = new Map((state.year !== null && facets ? facets.months : []).map((c) => [c.month, c.count]));
  for (const option of ui.month.options) {
    if (!option.value) continue;
    const name = MONTHS[Number(option.value) - 1];
    option.textContent = known && state.year !== null ? `${name} (${months.get(Number(option.value)) ?? 0})` : name;
  }
}

/** The months the chart spans: the chosen dates, narrowed by the year; open ends follow the data. */
function chartSpan(state) {
  const { from, to } = dateBounds({ ...state, month: null });
  const index = (date) => monthIndex(Number(date.slice(0, 4)), Number(date.slice(5, 7)));
  return { first: from ? index(from) : null, last: to ? index(to) : null };
}

function drawChart() {
  if (!chartSeries || !shown) return;
  const width = Math.max(ui.chart.clientWidth, 260);
  const finger = NARROW.matches || COARSE_POINTER.matches;
  const drawn = timeline({
    series: chartSeries,
    ...chartSpan(shown),
    width,
    minBand: finger ? MIN_BAR.finger : MIN_BAR.mouse,
    selected: { year: shown.year, month: shown.month },
    onChoose: choosePeriod,
  });
  if (!drawn) {
    ui.chartHeading.textContent = 'Releases per month';
    replace(ui.chart, h('p', { class: 'empty' }, 'No release matches these filters.'));
    return;
  }
  ui.chartHeading.textContent = `Releases per ${drawn.kind}`;
  // A redraw (a resize, new counts) keeps the table open and the focused bar focused.
  drawn.table.open = Boolean(ui.chart.querySelector('details.chart-table')?.open);
  const focusedBar = ui.chart.contains(document.activeElement) && document.activeElement.closest('.bar');
  if (focusedBar && !chartFocus) chartFocus = focusedBar.dataset.period;
  replace(ui.chart, drawn.svg, legend(chartSeries), drawn.table);
  if (chartFocus) {
    const bars = [...drawn.svg.querySelectorAll('.bar')];
    const target = bars.find((bar) => bar.dataset.period === chartFocus)
      ?? bars.find((bar) => bar.getAttribute('aria-pressed') === 'true') ?? bars[0];
    chartFocus = null;
    if (target) {
      for (const bar of bars) bar.setAttribute('tabindex', bar === target ? '0' : '-1');
      target.focus();
    }
  }
}

/**
 * A bar was chosen: a month or a year lists only its releases (again: every month or year), a
 * quarter narrows the dates to its three months.
 */
function choosePeriod(period) {
  const state = firstPage(shown);
  if (period.kind === 'month') {
    const again = shown.year === period.year && shown.month === period.month;
    state.year = period.year;
    state.month = again ? null : period.month;
  } else if (period.kind === 'year') {
    state.year = shown.year === period.year && shown.month === null ? null : period.year;
    state.month = null;
  } else {
    const start = `${period.year}-${String(period.start % 12 + 1).padStart(2, '0')}-01`;
    const endMonth = period.start % 12 + 3;
    const end = `${period.year}-${String(endMonth).padStart(2, '0')}-${new Date(Date.UTC(period.year, endMonth, 0)).getUTCDate()}`;
    // Within the dates already chosen, if any.
    const reversed = reversedRange(shown);
    state.from = !reversed && shown.from > start ? shown.from : start;
    state.to = !reversed && shown.to && shown.to < end ? shown.to : end;
  }
  chartFocus = period.key;
  navigate(state);
}

// ----------------------------------------------------------------------------- helpers ---

/** A programme's short name: its acronym when it has one. */
function programmeLabel(programme) {
  return programme.acronym || programme.name;
}

/** A programme's short name as shown: an acronym carries its expansion. */
function programmeName(programme) {
  return programme.acronym ? h('abbr', { title: programme.name }, programme.acronym) : programme.name;
}

/** `error` in words, with "Try again" (which runs `retry`). */
function showError(error) {
  ui.errorText.textContent = explain(error);
  ui.error.hidden = false;
}

function hideError() {
  ui.error.hidden = true;
  ui.errorText.textContent = '';
}

/** What went wrong, in the page's words: the API's own messages are written for developers. */
function explain(error) {
  switch (error.kind) {
    case 'offline':
      return 'The archive cannot be reached. Check the connection, then try again.';
    case 'busy':
      return 'The archive is busy and could not answer in time. Try again in a moment.';
    case 'input':
      return 'The archive could not use these filters. Change or clear them, then try again.';
    case 'refused':
      return 'The archive could not answer this request. Try again; if it fails again, clear the filters.';
    default:
      return 'Something went wrong in this page. Try again, or reload the page.';
  }
}

function debounce(run, delayMs) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => run(...args), delayMs);
  };
}
