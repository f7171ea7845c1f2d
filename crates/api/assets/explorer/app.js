/**
 * The archive explorer: filters (programmes, office, dates, search), a timeline of releases per
 * month stacked by programme, a page of releases, and one release's page. Everything it shows
 * comes from the public GraphQL API; the URL fragment holds the whole state (see state.js).
 */

import { ApiError, CATALOGUE, RELEASE, RELEASES, SERIES_PER_REQUEST, countsQuery, graphql } from './api.js';
import { legend, stackedMonthChart } from './chart.js';
import { $, formatDate, h, replace } from './dom.js';
import { emptyList, listHash, parseHash, releaseHash, toFilter } from './state.js';

const PAGE_SIZE = 20;
const SEARCH_DELAY_MS = 300;
/** Series colours (Tableau 10, the palest darkened), given to programmes in catalogue order so each keeps its own. */
const COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1',
  '#d37295', '#9c755f', '#79706e'];
const ALL_RELEASES_COLOUR = '#52606d';

const ui = {
  listView: $('#list-view'),
  releaseView: $('#release-view'),
  form: $('#filters'),
  panel: $('#filter-panel'),
  panelSummary: $('#filter-summary'),
  search: $('#search'),
  programmes: $('#programme-options'),
  office: $('#office'),
  from: $('#from'),
  to: $('#to'),
  order: $('#order'),
  chart: $('#chart'),
  chartNote: $('#chart-note'),
  status: $('#status'),
  error: $('#error'),
  list: $('#release-list'),
  pager: $('#pager'),
};

/** Programmes and offices by slug, in the API's order; filled once at start. */
let catalogue = { programmes: [], offices: [] };
/** The fragment to return to from a release. */
let lastListHash = '#/';
/** Filter whose counts are on screen, so that paging does not fetch them again. */
let countsKey = null;
/** The last chart drawn, redrawn at the new width when the window is resized. */
let chartSeries = null;
/** Each load bumps its counter; answers to an older request are dropped. */
const latest = { list: 0, counts: 0, release: 0 };

start();

async function start() {
  try {
    catalogue = await graphql(CATALOGUE);
  } catch (error) {
    showError(error);
    return;
  }
  buildFilters();
  // On a phone the filters start folded, below their summary, so the releases show first.
  if (window.matchMedia('(max-width: 47.99rem)').matches) ui.panel.open = false;
  window.addEventListener('hashchange', route);
  window.addEventListener('resize', debounce(drawChart, 150));
  route();
}

/** Shows what the URL fragment describes. */
function route() {
  const state = parseHash(window.location.hash);
  if (state.view === 'release') {
    showRelease(state.slug);
  } else {
    lastListHash = window.location.hash || '#/';
    showList(state);
  }
}

// ------------------------------------------------------------------------------ filters ---

function buildFilters() {
  const byLabel = [...catalogue.programmes]
    .sort((a, b) => programmeLabel(a).localeCompare(programmeLabel(b), 'en'));
  replace(ui.programmes, byLabel.map((programme) =>
    h('li', {},
      h('input', { type: 'checkbox', id: `programme-${programme.slug}`, name: 'programmes', value: programme.slug }),
      h('label', { for: `programme-${programme.slug}`, title: programme.name },
        programmeLabel(programme), ' ', h('span', { class: 'count', dataset: { programme: programme.slug } })))));
  replace(ui.office, h('option', { value: '' }, 'Any office'),
    catalogue.offices.map((office) => h('option', { value: office.slug }, office.name)));

  ui.form.addEventListener('change', (event) => {
    if (event.target !== ui.search) navigate(readFilters());
  });
  const searchLater = debounce(() => navigate(readFilters(), { replace: true }), SEARCH_DELAY_MS);
  ui.search.addEventListener('input', searchLater);
  ui.form.addEventListener('submit', (event) => {
    event.preventDefault();
    navigate(readFilters());
  });
  ui.form.addEventListener('reset', (event) => {
    event.preventDefault();
    navigate(emptyList());
  });
}

/** The filters as the form shows them, from the first page. */
function readFilters() {
  const state = emptyList();
  state.programmes = [...ui.programmes.querySelectorAll('input:checked')].map((input) => input.value);
  state.office = ui.office.value;
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
  ui.from.value = state.from;
  ui.to.value = state.to;
  ui.order.value = state.order;
  // Not while typing: the field would lose what was typed since the last request.
  if (document.activeElement !== ui.search) ui.search.value = state.q;
  const chosen = state.programmes.length + (state.office ? 1 : 0) + (state.from || state.to ? 1 : 0) + (state.q ? 1 : 0);
  ui.panelSummary.textContent = chosen ? `Filters (${chosen} active)` : 'Filters';
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

// --------------------------------------------------------------------------------- list ---

function showList(state) {
  const changedView = !ui.releaseView.hidden;
  ui.releaseView.hidden = true;
  ui.listView.hidden = false;
  document.title = 'Press releases · ILO China and Mongolia';
  writeFilters(state);
  const key = JSON.stringify(toFilter(state));
  if (key !== countsKey) loadCounts(state, key);
  loadList(state);
  if (changedView) $('#results-heading').focus();
}

async function loadList(state) {
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
  } catch (error) {
    if (ticket !== latest.list) return;
    showError(error);
    ui.status.textContent = '';
    replace(ui.list);
    replace(ui.pager);
  } finally {
    if (ticket === latest.list) ui.list.removeAttribute('aria-busy');
  }
}

function renderList(releases, state, searching) {
  const { totalCount, pageInfo, nodes } = releases;
  ui.status.textContent = totalCount === 0
    ? 'No release matches these filters.'
    : `${totalCount} ${totalCount === 1 ? 'release' : 'releases'}`;
  replace(ui.list, nodes.map((release) => h('li', { dataset: { id: release.id, slug: release.slug } },
    h('article', {},
      h('h3', {}, h('a', { href: releaseHash(release.slug) }, release.title)),
      h('p', { class: 'meta' },
        h('time', { datetime: release.publishedOn }, formatDate(release.publishedOn)),
        release.programmes.map((programme) => [' ', chip(programme)])),
      searching && release.highlight
        ? h('p', { class: 'summary' }, highlighted(release.highlight))
        : release.summary && h('p', { class: 'summary' }, release.summary)))));
  const pageLink = (label, cursor, rel) => cursor
    ? h('a', { href: listHash({ ...state, after: '', before: '', ...cursor }), rel, class: 'button' }, label)
    : h('span', { class: 'button', 'aria-disabled': 'true' }, label);
  replace(ui.pager,
    pageLink('← Previous page', pageInfo.hasPreviousPage && { before: pageInfo.startCursor }, 'prev'),
    pageLink('Next page →', pageInfo.hasNextPage && { after: pageInfo.endCursor }, 'next'));
}

/** A programme's name on a release, linking to its releases. */
function chip(programme) {
  return h('a', { class: 'chip', href: listHash({ ...emptyList(), programmes: [programme.slug] }), title: programme.name },
    programmeLabel(programme));
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
    showCounts(facets);
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
    showCounts({ programmes: [], offices: [] }, { known: false });
    replace(ui.chart, h('p', { class: 'empty' }, 'The chart is not available.'));
    showError(error); // usually the list fails too, with the same reason
  } finally {
    if (ticket === latest.counts) ui.chart.removeAttribute('aria-busy');
  }
}

/** The number of releases next to each programme and office, were it chosen; none when not `known`. */
function showCounts(facets, { known = true } = {}) {
  const programmes = new Map(facets.programmes.map((c) => [c.programme.slug, c.count]));
  for (const span of ui.programmes.querySelectorAll('.count')) {
    span.textContent = known ? `(${programmes.get(span.dataset.programme) ?? 0})` : '';
  }
  const offices = new Map(facets.offices.map((c) => [c.office.slug, c.count]));
  for (const option of ui.office.options) {
    const office = catalogue.offices.find((o) => o.slug === option.value);
    if (office) option.textContent = known ? `${office.name} (${offices.get(office.slug) ?? 0})` : office.name;
  }
}

function drawChart() {
  if (!chartSeries || ui.listView.hidden) return;
  const width = Math.max(ui.chart.clientWidth, 260);
  const svg = stackedMonthChart(chartSeries, width);
  replace(ui.chart, svg ? [svg, legend(chartSeries)] : h('p', { class: 'empty' }, 'No release matches these filters.'));
}

// ------------------------------------------------------------------------------ release ---

async function showRelease(slug) {
  const ticket = ++latest.release;
  ui.listView.hidden = true;
  ui.releaseView.hidden = false;
  replace(ui.releaseView, h('p', { role: 'status' }, 'Loading…'));
  let release;
  try {
    ({ release } = await graphql(RELEASE, { slug }));
  } catch (error) {
    if (ticket !== latest.release) return;
    replace(ui.releaseView, backLink(), h('p', { role: 'alert', class: 'error' }, errorText(error)));
    return;
  }
  if (ticket !== latest.release) return;
  if (!release) {
    document.title = 'Release not found · ILO China and Mongolia';
    replace(ui.releaseView, backLink(), h('h2', { tabindex: '-1' }, 'No release has this address'),
      h('p', {}, 'It may have been renamed or removed. Search the list for it instead.'));
    ui.releaseView.querySelector('h2').focus();
    return;
  }
  document.title = `${release.title} · ILO China and Mongolia`;
  const heading = h('h2', { tabindex: '-1', id: 'release-title' }, release.title);
  replace(ui.releaseView,
    backLink(),
    h('article', { class: 'release', 'aria-labelledby': 'release-title', dataset: { id: release.id } },
      heading,
      h('p', { class: 'meta' }, 'Published ', h('time', { datetime: release.publishedOn }, formatDate(release.publishedOn))),
      release.summary ? h('p', { class: 'summary' }, release.summary) : h('p', { class: 'empty' }, 'The listing gives no summary.'),
      release.imageCredit && h('p', { class: 'credit' }, `Photo: ${release.imageCredit}`),
      h('dl', {},
        h('dt', {}, 'Programmes'),
        h('dd', {}, release.programmes.length
          ? h('ul', { class: 'inline' }, release.programmes.map((programme) => h('li', {}, chip(programme))))
          : 'None named'),
        h('dt', {}, 'Offices'),
        h('dd', {}, h('ul', { class: 'inline' }, release.offices.map((office) => h('li', {},
          h('a', { class: 'chip', href: listHash({ ...emptyList(), office: office.slug }) }, office.name)))))),
      h('section', { 'aria-labelledby': 'related-heading' },
        h('h3', { id: 'related-heading' }, 'Related releases'),
        release.related.length
          ? h('ul', { class: 'related' }, release.related.map((other) => h('li', {},
            h('a', { href: releaseHash(other.slug) }, other.title), ' ',
            h('time', { datetime: other.publishedOn }, formatDate(other.publishedOn)))))
          : h('p', { class: 'empty' }, 'None found.'))));
  heading.focus();
}

function backLink() {
  return h('p', {}, h('a', { href: lastListHash, class: 'back' }, '← Back to the releases'));
}

// ----------------------------------------------------------------------------- helpers ---

/** A programme's short name: its acronym when it has one. */
function programmeLabel(programme) {
  return programme.acronym || programme.name;
}

function showError(error) {
  ui.error.textContent = errorText(error);
  ui.error.hidden = false;
}

function hideError() {
  ui.error.hidden = true;
  ui.error.textContent = '';
}

function errorText(error) {
  return error instanceof ApiError ? error.message : `Something went wrong: ${error.message}`;
}

function debounce(run, delayMs) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => run(...args), delayMs);
  };
}
