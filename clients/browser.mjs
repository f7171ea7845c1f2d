// The explorer and the playground in a real headless browser (Chromium, through playwright-core).
//
//   node clients/browser.mjs <base_url> <artifacts_dir> [--ingest]
//
// Drives the explorer on <base_url>/ as a reader would, in a desktop window and a phone-sized
// one, and checks what it shows against the API's own answers: the list and its pages, the
// chart and its bars, the filters (programmes, office, year and month, dates, search), the
// explanations of unusable addresses, the error and empty states, the feed links; then runs the
// example query in the playground on /graphql; then the notice of new releases: its stream
// resumed with `after` and a server without live updates (both answered by the script itself),
// and, with --ingest, a release really published while the page is open. --ingest means that the
// program running this script ingests on request: the script prints `STEP <name> [args]` and
// reads one JSON line back (the `clients` test does this over a PostgreSQL archive whose server
// follows its changes). Every state visited is checked with axe-core
// (any violation fails) and saved as a screenshot into <artifacts_dir> (explorer.png and
// explorer-phone.png are the pictures of the documentation). Fails if a page asks anything of
// another origin, logs a console error, throws, or gets an HTTP error it was not made to get.
// Exits 0 on success, 1 with the reason otherwise (DEBUG=1 adds the stack). Chromium is
// $CHROMIUM_PATH, else /usr/bin/chromium.

import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { chromium } from 'playwright-core';

const PROGRAMME = 'score';
const TIMEOUT_MS = 20_000;
/** WCAG 2.2's minimum target size, in CSS pixels: what a finger must be able to hit. */
const MIN_TARGET = 24;
/** A search that no release matches (checked against the API). */
const NO_MATCH = 'zyxwvutsrq';

const [baseArg, artifactsDir, ...options] = process.argv.slice(2);
if (!baseArg || !artifactsDir || options.some((option) => option !== '--ingest')) {
  console.error('usage: node clients/browser.mjs <base_url> <artifacts_dir> [--ingest]');
  process.exit(2);
}
/** Whether whoever runs this script ingests releases when asked (see `step`). */
const INGEST = options.includes('--ingest');
const base = new URL(baseArg);
const origin = base.origin;
const url = (pathAndHash) => new URL(pathAndHash, base).toString();
const AXE_SOURCE = await readFile(new URL('./node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');

/** Everything that went wrong in a page, whatever the step: checked after each step. */
const problems = [];
/** Problems a step causes on purpose (an unreachable server), not counted while it runs. */
const expected = [];

function report(problem) {
  if (!expected.some((pattern) => pattern.test(problem))) problems.push(problem);
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/**
 * Asks the program running this script (with --ingest) to do `name`: prints `STEP <name>
 * [args]` and returns the JSON line it answers on stdin.
 */
async function step(name, ...args) {
  const input = readline.createInterface({ input: process.stdin });
  try {
    console.log(['STEP', name, ...args].join(' '));
    const { value, done } = await input[Symbol.asyncIterator]().next();
    check(!done, `stdin closed before the answer to STEP ${name}`);
    return JSON.parse(value);
  } finally {
    input.close();
  }
}

function sameList(actual, wanted) {
  return actual.length === wanted.length
    && actual.every((item, i) => item.id === wanted[i].id && item.title === wanted[i].title);
}

/** `data` of a query to the API, straight from Node, to compare the pages with. */
async function api(query, variables = {}) {
  const response = await fetch(url('/graphql'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query, variables }),
  }).catch((error) => { throw new Error(`cannot reach ${url('/graphql')}: ${error.cause?.message ?? error.message}`); });
  const body = await response.json().catch(() => ({}));
  check(response.ok && !body.errors, `the API refused ${query}: ${response.status} ${JSON.stringify(body)}`);
  return body.data;
}

/** How many releases match `filter`, by the API. */
async function countOf(filter) {
  const { releases } = await api('query($filter: ReleaseFilter) { releases(filter: $filter, first: 0) { totalCount } }', { filter });
  return releases.totalCount;
}

/** Every release matching `filter`, all pages, as the API lists them (newest first). */
async function releasesMatching(filter) {
  const all = [];
  let after = null;
  for (;;) {
    const { releases } = await api(`query($filter: ReleaseFilter, $after: String) {
      releases(filter: $filter, first: 100, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } nodes { id slug title publishedOn } } }`,
    { filter, after });
    all.push(...releases.nodes);
    if (!releases.pageInfo.hasNextPage) return { totalCount: releases.totalCount, releases: all };
    after = releases.pageInfo.endCursor;
  }
}

/**
 * A browser context that refuses and reports any request to another origin. (The pages' own
 * Content-Security-Policy already refuses most, with a console error, which fails the run too.)
 */
async function isolatedContext(browser, options) {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(TIMEOUT_MS);
  await context.route('**/*', (route) => {
    const target = new URL(route.request().url());
    if (target.origin === origin || target.protocol === 'data:' || target.protocol === 'blob:') {
      return route.continue();
    }
    report(`request to another origin: ${route.request().method()} ${target}`);
    return route.abort('blockedbyclient');
  });
  return context;
}

/** A page whose console errors, uncaught exceptions and HTTP errors become problems. */
async function watchedPage(context, name) {
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') report(`${name}: console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => report(`${name}: uncaught exception: ${error.message}`));
  page.on('response', (response) => {
    if (response.status() >= 400) report(`${name}: ${response.status()} for ${response.url()}`);
  });
  page.on('requestfailed', (request) => {
    // ERR_ABORTED is the browser giving up a request as it leaves the page (a favicon still on
    // its way when a link is followed): no answer of the server's.
    if (new URL(request.url()).origin === origin && request.failure()?.errorText !== 'net::ERR_ABORTED') {
      report(`${name}: request failed: ${request.url()} (${request.failure()?.errorText})`);
    }
  });
  return page;
}

function noProblems(step) {
  check(problems.length === 0, `${step}:\n  ${problems.join('\n  ')}`);
}

/**
 * The state on screen passes axe-core (every rule it runs by default; `exclude` leaves out
 * markup that is not ours) and is saved as `<name>.png`, scrolled to `show` if given.
 */
async function visited(page, name, { fullPage = false, exclude = [], show = null } = {}) {
  if (!await page.evaluate(() => typeof window.axe === 'object')) {
    // Evaluated through the DevTools protocol, which the page's CSP does not govern.
    await page.evaluate(AXE_SOURCE);
  }
  const violations = await page.evaluate(async (excluded) => {
    const result = await window.axe.run({ exclude: excluded.map((selector) => [selector]) }, { resultTypes: ['violations'] });
    return result.violations.map((violation) => `${violation.id} (${violation.impact}): ${violation.help}\n      `
      + violation.nodes.slice(0, 5).map((node) => `${node.target.join(' ')}: ${node.failureSummary.replace(/\s+/g, ' ')}`).join('\n      '));
  }, exclude);
  if (show) await page.$eval(show, (element) => element.scrollIntoView({ block: 'center' }));
  await page.screenshot({ path: path.join(artifactsDir, `${name}.png`), fullPage });
  check(violations.length === 0, `axe finds violations in ${name}:\n  ${violations.join('\n  ')}`);
}

/** Waits until the release list is not loading. */
async function listSettled(page) {
  await page.waitForFunction(() => {
    const list = document.querySelector('#release-list');
    const status = document.querySelector('#status').textContent;
    return list && !list.hasAttribute('aria-busy') && status !== '' && !status.startsWith('Loading');
  });
}

/** Waits until the chart is drawn for the list on screen. */
async function chartSettled(page) {
  await page.waitForFunction(() => !document.querySelector('#chart').hasAttribute('aria-busy')
    && document.querySelector('#chart svg, #chart .empty'));
}

/** Runs `action` and waits for the explorer's answer to the list query it causes. */
async function whileListLoads(page, action) {
  const answered = page.waitForResponse((response) =>
    response.url() === url('/graphql') && (response.request().postData() ?? '').includes('query Releases'));
  await action();
  await answered;
  await listSettled(page);
}

/** Opens the explorer's view `hash` and waits for its list and chart. */
async function openView(page, hash) {
  const target = url(`/${hash}`);
  if (page.url() !== target) await whileListLoads(page, () => page.goto(target));
  await chartSettled(page);
}

/** The releases on the explorer's page: [{ id, title }]. */
function shownReleases(page) {
  return page.$$eval('#release-list > li', (items) => items.map((li) => ({
    id: li.dataset.id, title: li.querySelector('h3').textContent,
  })));
}

/** The releases the explorer lists, over all its pages (following "Next page"). */
async function listedReleases(page) {
  const listed = [];
  for (let pages = 0; pages < 200; pages += 1) {
    listed.push(...await shownReleases(page));
    const next = await page.$('#pager a[rel="next"]');
    if (!next) return listed;
    await whileListLoads(page, () => next.click());
  }
  throw new Error('the explorer lists more than 200 pages');
}

/** The number in the explorer's status ("1–20 of 53 releases", "1 release", "No release…"). */
async function shownTotal(page) {
  const status = await page.textContent('#status');
  if (status.startsWith('No release')) return 0;
  return Number(/(\d+) releases?$/.exec(status)?.[1] ?? NaN);
}

async function checkTotal(page, wanted, what) {
  const total = await shownTotal(page);
  check(total === wanted, `${what}: the explorer says "${await page.textContent('#status')}", the API counts ${wanted}`);
}

/** The fragment's parameters. */
function hashParams(page) {
  const hash = new URL(page.url()).hash;
  return new URLSearchParams(hash.includes('?') ? hash.slice(hash.indexOf('?') + 1) : '');
}

/** Chart segments: [{ series, period, count }]; bars: [{ period, pressed, label, width, height }]. */
function chartSegments(page) {
  return page.$$eval('#chart svg rect.segment', (rects) => rects.map((rect) => ({
    series: rect.dataset.series, period: rect.dataset.period, count: Number(rect.dataset.count),
  })));
}

function chartBars(page) {
  return page.$$eval('#chart svg .bar', (bars) => bars.map((bar) => {
    const box = bar.querySelector('.hit').getBoundingClientRect();
    return {
      period: bar.dataset.period, pressed: bar.getAttribute('aria-pressed'), label: bar.getAttribute('aria-label'),
      role: bar.getAttribute('role'), width: box.width, height: box.height,
    };
  }));
}

/** The chart's period of a "YYYY-MM-DD" date, at the chart's granularity. */
function periodOf(date, granularity) {
  const [year, month] = [date.slice(0, 4), Number(date.slice(5, 7))];
  if (granularity === 'month') return `${year}-${String(month).padStart(2, '0')}`;
  if (granularity === 'quarter') return `${year}-Q${Math.floor((month - 1) / 3) + 1}`;
  return year;
}

/** The element with the focus: its id, tag, class, text and data-period. */
function focused(page) {
  return page.evaluate(() => {
    const element = document.activeElement;
    return {
      id: element.id, tag: element.tagName.toLowerCase(), className: element.getAttribute('class') ?? '',
      text: element.textContent.trim(), period: element.dataset?.period ?? null,
      href: element.getAttribute('href'), inList: Boolean(element.closest('#release-list')),
      top: element.getBoundingClientRect().top,
    };
  });
}

/** Whether the results' heading is at the top of the window (or as high as scrolling can bring it). */
function resultsAtTop(page) {
  return page.evaluate(() => {
    const top = document.querySelector('#results-heading').getBoundingClientRect().top;
    const atBottom = window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 1;
    // The heading sits below its section's padding.
    return { top, scrollY: window.scrollY, ok: (top >= 0 && top <= 40) || (atBottom && top >= 0 && top < window.innerHeight / 2) };
  });
}

/** "Next page" and "Previous page": the list's top, the focus on its heading, the status in numbers. */
async function checkPaging(page, all, where) {
  const pageSize = (await shownReleases(page)).length;
  check(all.totalCount > pageSize, `${where}: the archive needs more than one page (${all.totalCount} releases)`);
  check(await page.getAttribute('#status', 'role') === 'status', `${where}: the status is not announced (role=status)`);
  check(await page.textContent('#status') === `1–${pageSize} of ${all.totalCount} releases`,
    `${where}: the first page's status is "${await page.textContent('#status')}"`);

  await whileListLoads(page, () => page.click('#pager a[rel="next"]'));
  const second = all.releases.slice(pageSize, 2 * pageSize);
  check(sameList(await shownReleases(page), second), `${where}: the second page is not the API's`);
  const wanted = `${pageSize + 1}–${pageSize + second.length} of ${all.totalCount} releases`;
  check(await page.textContent('#status') === wanted, `${where}: after "Next page" the status is "${await page.textContent('#status')}", not "${wanted}"`);
  let focus = await focused(page);
  check(focus.id === 'results-heading', `${where}: after "Next page" the focus is on ${JSON.stringify(focus)}, not the results' heading`);
  let position = await resultsAtTop(page);
  check(position.ok, `${where}: after "Next page" the results' heading is ${position.top}px from the top (scrollY ${position.scrollY})`);
  await visited(page, `${where}-page-2`);

  await whileListLoads(page, () => page.click('#pager a[rel="prev"]'));
  check(sameList(await shownReleases(page), all.releases.slice(0, pageSize)), `${where}: "Previous page" does not show the first page`);
  check(await page.textContent('#status') === `1–${pageSize} of ${all.totalCount} releases`,
    `${where}: after "Previous page" the status is "${await page.textContent('#status')}"`);
  focus = await focused(page);
  position = await resultsAtTop(page);
  check(focus.id === 'results-heading' && position.ok, `${where}: after "Previous page" the focus is on ${JSON.stringify(focus)}, the heading at ${position.top}px`);
}

/** The feed links, in the head and beside the results, are those of `params` (programme, office, from, to, search). */
async function checkFeed(page, params, what) {
  const head = await page.$$eval('link[rel="alternate"][type="application/atom+xml"]', (links) => links.map((link) => ({ href: link.getAttribute('href'), title: link.title })));
  check(head.length === 1, `${what}: the page's head has ${head.length} Atom feeds`);
  const visible = await page.$eval('#feed-link', (link) => ({ href: link.getAttribute('href'), text: link.textContent, shown: link.getBoundingClientRect().width > 0 }));
  const feed = new URL(head[0].href, base);
  check(feed.pathname === '/feeds/releases.atom', `${what}: the feed is ${head[0].href}`);
  const wanted = new URLSearchParams(params);
  wanted.sort();
  feed.searchParams.sort();
  check(feed.searchParams.toString() === wanted.toString(), `${what}: the feed asks for "${feed.searchParams}", not "${wanted}"`);
  check(head[0].title.length > 0, `${what}: the feed has no title`);
  check(visible.href === head[0].href && visible.text.startsWith('Feed') && visible.shown,
    `${what}: the visible feed link ${JSON.stringify(visible)} differs from the head's ${head[0].href}`);
  // The feed a reader would subscribe to answers, with the releases the page lists first.
  const response = await fetch(feed);
  const atom = await response.text();
  check(response.ok && (response.headers.get('content-type') ?? '').startsWith('application/atom+xml'),
    `${what}: ${feed} answers ${response.status} ${response.headers.get('content-type')}`);
  const firstSlug = await page.$eval('#release-list > li', (li) => li.dataset.slug).catch(() => null);
  if (firstSlug) {
    check(atom.includes(`/releases/${encodeURIComponent(firstSlug)}"`), `${what}: the feed lacks the first release the page shows (${firstSlug})`);
  }
}

/** Runs `action` while the server is unreachable (or answers `fulfil`), as a reader meets it. */
async function withBrokenApi(page, { fulfil = null, tolerated }, action) {
  await page.route('**/graphql', (route) => (fulfil ? route.fulfill(fulfil) : route.abort('internetdisconnected')));
  expected.push(...tolerated);
  try {
    await action();
  } finally {
    await page.unroute('**/graphql');
    expected.length = 0;
  }
}

/** The first load: rows standing for releases until they come. */
async function firstLoad(page) {
  let answer;
  const held = new Promise((resolve) => { answer = resolve; });
  await page.route('**/graphql', async (route) => {
    if ((route.request().postData() ?? '').includes('query Releases')) await held;
    return route.fallback();
  });
  await page.goto(url('/'));
  await page.waitForSelector('#release-list .skeleton');
  const skeleton = await page.$$eval('#release-list .skeleton', (rows) => rows.filter((row) => row.getBoundingClientRect().height > 0).length);
  check(skeleton >= 3, `while loading, the list shows ${skeleton} placeholder rows`);
  check((await page.textContent('#status')).startsWith('Loading'), 'while loading, the status does not say so');
  await visited(page, 'explorer-loading');
  answer();
  await listSettled(page);
  await page.unroute('**/graphql');
  check(await page.$('#release-list .skeleton') === null, 'the placeholder rows stay after the list came');
}

/** Point 4: the first Tab stop skips to the releases. */
async function skipLink(page) {
  await page.keyboard.press('Tab');
  const skip = await focused(page);
  check(skip.text === 'Skip to the releases' && skip.top >= 0,
    `the first Tab stop is ${JSON.stringify(skip)}, not a visible "Skip to the releases"`);
  await visited(page, 'explorer-skip-link');
  const before = page.url();
  await page.keyboard.press('Enter');
  const target = await focused(page);
  check(target.id === 'results-heading', `"Skip to the releases" leaves the focus on ${JSON.stringify(target)}`);
  check(page.url() === before, `"Skip to the releases" changed the view's address to ${page.url()}`);
  let presses = 0;
  let focus;
  do {
    await page.keyboard.press('Tab');
    presses += 1;
    focus = await focused(page);
  } while (!focus.inList && presses < 10);
  check(focus.inList && presses <= 3, `after the skip link, the first release is ${presses} Tab presses away`);
}

/** Points 3 and 7: addresses that cannot be used, errors, empty results. */
async function unusable(page, expect) {
  // A date that does not exist: explained, left out, the rest works.
  await openView(page, '#/?from=2020-13-45');
  let notices = await page.textContent('#notices');
  check(notices.includes('“From”') && notices.includes('2020-13-45') && notices.includes('not a date'),
    `#/?from=2020-13-45 is explained as "${notices}"`);
  await checkTotal(page, expect.all.totalCount, '#/?from=2020-13-45');
  check(await page.inputValue('#from') === '', 'the impossible date stays in the From field');
  check(!hashParams(page).has('from'), `the address keeps the impossible date: ${page.url()}`);
  await visited(page, 'explorer-bad-date', { show: '#notices' });

  // Unknown slugs, a bad order, a year that is none, a mangled cursor: each explained, the programme kept.
  await openView(page, `#/?programmes=${PROGRAMME},no-such-programme&office=nowhere&order=SIDEWAYS&year=20x1&after=not-a-cursor`);
  await page.waitForFunction(() => document.querySelector('#notices').textContent.includes('page of the list'));
  notices = await page.textContent('#notices');
  for (const part of ['no-such-programme', 'nowhere', 'SIDEWAYS', '20x1', 'first page is shown']) {
    check(notices.includes(part), `the notices do not explain "${part}": "${notices}"`);
  }
  await checkTotal(page, expect.programme.totalCount, 'an address with unusable parts');
  check(sameList(await shownReleases(page), expect.programme.releases.slice(0, (await shownReleases(page)).length)),
    'with unusable parts left out, the list is not the programme\'s first page');
  const params = hashParams(page);
  check(params.get('programmes') === PROGRAMME && !params.has('after') && !params.has('order') && !params.has('office'),
    `the address is not cleaned up: ${page.url()}`);
  await visited(page, 'explorer-bad-address', { show: '#notices' });

  // A reversed range typed in the form: named with the page's own fields, no API message.
  await openView(page, '#/');
  await whileListLoads(page, () => page.fill('#from', '2021-05-01'));
  check(await page.getAttribute('#to', 'min') === '2021-05-01', `"To" is not bounded by "From": min=${await page.getAttribute('#to', 'min')}`);
  await whileListLoads(page, () => page.fill('#to', '2020-01-01'));
  notices = await page.textContent('#notices');
  check(notices.includes('“From” (2021-05-01) is after “To” (2020-01-01)'), `a reversed range is explained as "${notices}"`);
  const text = await page.textContent('body');
  check(!/publishedFrom|publishedTo|BAD_USER_INPUT/.test(text), 'the page shows the API\'s own words about the dates');
  check(await page.getAttribute('#from', 'aria-invalid') === 'true' && await page.getAttribute('#to', 'aria-invalid') === 'true',
    'the reversed dates are not marked invalid');
  const beside = await page.textContent('#range-error');
  check(beside.includes('“From” (2021-05-01) is after “To” (2020-01-01)') && await page.isVisible('#range-error'),
    `beside the date fields, a reversed range is explained as "${beside}"`);
  await checkTotal(page, expect.all.totalCount, 'a reversed range (left out)');
  await visited(page, 'explorer-reversed-range', { show: '#range-error' });

  // The date fields' bounds: the archive's first and last days, and each other.
  await openView(page, '#/?from=2017-01-01');
  const bounds = await page.evaluate(() => ({
    fromMin: document.querySelector('#from').min, fromMax: document.querySelector('#from').max,
    toMin: document.querySelector('#to').min, toMax: document.querySelector('#to').max,
  }));
  check(bounds.fromMin === expect.oldest && bounds.toMax === expect.newest && bounds.toMin === '2017-01-01' && bounds.fromMax === expect.newest,
    `the date fields are bounded by ${JSON.stringify(bounds)}; the archive runs from ${expect.oldest} to ${expect.newest}`);

  // An error from the server: said in words, with "Try again", which retries.
  const raw = 'internal error: RAW-API-MESSAGE';
  await withBrokenApi(page, {
    fulfil: { status: 200, contentType: 'application/json', body: JSON.stringify({ errors: [{ message: raw, extensions: { code: 'INTERNAL' } }] }) },
    tolerated: [],
  }, async () => {
    await page.goto(url('/#/?q=labour'));
    await page.waitForSelector('#error:not([hidden])');
    const shown = await page.textContent('#error');
    check(!shown.includes('RAW-API-MESSAGE') && shown.includes('Try again'), `the error says "${shown}"`);
    await visited(page, 'explorer-error', { show: '#error' });
  });
  await whileListLoads(page, () => page.click('#retry'));
  check(await page.isHidden('#error'), '"Try again" leaves the error shown');
  await checkTotal(page, await countOf({ search: 'labour' }), '"Try again"');

  // Offline: the same, and the whole page (its catalogue too) comes back.
  await withBrokenApi(page, { tolerated: [/graphql/, /Failed to load resource/] }, async () => {
    await page.reload();
    await page.waitForSelector('#error:not([hidden])');
    const shown = await page.textContent('#error');
    check(shown.includes('cannot be reached') && shown.includes('Try again'), `offline, the page says "${shown}"`);
    await visited(page, 'explorer-offline', { show: '#error' });
  });
  await whileListLoads(page, () => page.click('#retry'));
  await checkTotal(page, await countOf({ search: 'labour' }), '"Try again" after being offline');
  check(await page.$(`#programme-${PROGRAMME}`) !== null, 'after "Try again", the filters are still missing');

  // No match: "Clear filters" brings every release back.
  check(await countOf({ search: NO_MATCH }) === 0, `the API finds releases for "${NO_MATCH}"`);
  await openView(page, `#/?q=${NO_MATCH}`);
  check(await page.isVisible('#empty') && await page.isVisible('#clear-filters'), 'an empty result offers no "Clear filters"');
  await visited(page, 'explorer-empty', { show: '#empty' });
  await whileListLoads(page, () => page.click('#clear-filters'));
  check(new URL(page.url()).hash === '#/', `"Clear filters" leads to ${page.url()}`);
  await checkTotal(page, expect.all.totalCount, '"Clear filters"');
}

/**
 * The search box's suggestions: an ARIA combobox the keyboard works (Down makes an option
 * active, Enter chooses it, Escape closes), each option's count what its search finds.
 */
async function suggestions(page) {
  await openView(page, '#/');
  await page.click('#search');
  await page.keyboard.type('appren');
  await page.waitForSelector('#search-suggestions [role="option"]');
  check(await page.getAttribute('#search', 'role') === 'combobox', 'the search box is not a combobox');
  check(await page.getAttribute('#search', 'aria-expanded') === 'true', 'the combobox does not say it is expanded');
  check(await page.getAttribute('#search', 'aria-controls') === 'search-suggestions', 'the combobox does not name its list box');
  const options = await page.$$eval('#search-suggestions [role="option"]', (nodes) => nodes.map((node) => ({
    text: node.querySelector('.suggestion-text').textContent,
    count: node.querySelector('.suggestion-count').textContent,
  })));
  check(options.length > 0 && options.every((option) => option.text.startsWith('appren')),
    `the suggestions for "appren" are ${JSON.stringify(options)}`);
  const first = options[0];
  const wanted = await countOf({ search: first.text });
  check(first.count.startsWith(`${wanted} `), `"${first.text}" is offered with "${first.count}", the API finds ${wanted}`);
  await page.keyboard.press('ArrowDown');
  check(await page.getAttribute('#search', 'aria-activedescendant') === 'search-suggestions-0',
    'ArrowDown does not make the first suggestion active');
  check(await page.getAttribute('#search-suggestions-0', 'aria-selected') === 'true', 'the active suggestion is not selected');
  await visited(page, 'explorer-suggestions');
  await page.keyboard.press('Enter');
  await page.waitForFunction((text) => new URLSearchParams(location.hash.split('?')[1] ?? '').get('q') === text, first.text);
  await listSettled(page);
  check(await page.inputValue('#search') === first.text, `Enter puts "${await page.inputValue('#search')}" in the box`);
  check(await page.getAttribute('#search', 'aria-expanded') === 'false', 'the list stays open after a choice');
  check(await page.evaluate(() => document.activeElement?.id) === 'search', 'choosing takes the focus from the box');
  await checkTotal(page, wanted, `the suggestion "${first.text}"`);
  // Escape closes without choosing.
  await page.fill('#search', '');
  await page.keyboard.type('work');
  await page.waitForSelector('#search-suggestions [role="option"]');
  await page.keyboard.press('Escape');
  check(await page.isHidden('#search-suggestions'), 'Escape leaves the suggestions open');
  check(await page.inputValue('#search') === 'work', 'Escape changes the search');
}

/** Point 6 on a desktop: bars choose months, the keyboard works them, the axis follows the dates. */
async function chart(page, expect) {
  await openView(page, `#/?programmes=${PROGRAMME}`);
  const granularity = await page.getAttribute('#chart svg', 'data-granularity');
  check(granularity === 'month', `on a desktop the programme's chart groups by ${granularity}, not by month`);
  const bars = await chartBars(page);
  check(bars.every((bar) => bar.role === 'button' && bar.label.includes('release')), `the bars are not labelled buttons: ${JSON.stringify(bars)}`);
  // A month of the year with the most months that have releases, so that the arrows have somewhere to go.
  const segments = await chartSegments(page);
  const monthsOf = (y) => segments.filter((segment) => segment.period.startsWith(`${y}-`)).length;
  const busiest = segments.reduce((best, segment) => (monthsOf(segment.period.slice(0, 4)) > monthsOf(best.period.slice(0, 4)) ? segment : best));
  const [year, month] = busiest.period.split('-').map(Number);

  // A click lists that month.
  await whileListLoads(page, () => page.click(`#chart .bar[data-period="${busiest.period}"]`));
  await chartSettled(page);
  let params = hashParams(page);
  check(params.get('year') === String(year) && params.get('month') === String(month), `clicking ${busiest.period} leads to ${page.url()}`);
  await checkTotal(page, await countOf({ programmes: [PROGRAMME], year, month }), `the bar of ${busiest.period}`);
  let focus = await focused(page);
  check(focus.period === busiest.period, `after the click the focus is on ${JSON.stringify(focus)}`);
  check(await page.getAttribute(`#chart .bar[data-period="${busiest.period}"]`, 'aria-pressed') === 'true', 'the chosen bar is not pressed');
  const span = [await page.getAttribute('#chart svg', 'data-first'), await page.getAttribute('#chart svg', 'data-last')];
  check(span[0] === `${year}-01` && span[1] === `${year}-12`, `with ${year} chosen, the axis runs from ${span[0]} to ${span[1]}`);
  check(await page.inputValue('#year') === String(year) && await page.inputValue('#month') === String(month),
    'the year and month fields do not show the chosen bar');
  await visited(page, 'explorer-chart-month');

  // The keyboard: Space on the pressed bar lists the whole year again; arrows move, Enter chooses.
  await whileListLoads(page, () => page.keyboard.press('Space'));
  await chartSettled(page);
  params = hashParams(page);
  check(params.get('year') === String(year) && !params.has('month'), `Space on the pressed bar leads to ${page.url()}`);
  await checkTotal(page, await countOf({ programmes: [PROGRAMME], year }), `the year ${year}`);
  focus = await focused(page);
  check(focus.period === busiest.period, `after Space the focus is on ${JSON.stringify(focus)}`);
  const yearBars = await chartBars(page);
  check(yearBars.length > 1, `${PROGRAMME} has releases in one month of ${year} only: the arrow keys cannot be tried`);
  const at = yearBars.findIndex((bar) => bar.period === busiest.period);
  const key = at + 1 < yearBars.length ? 'ArrowRight' : 'ArrowLeft';
  const other = yearBars[at + (key === 'ArrowRight' ? 1 : -1)].period;
  await page.keyboard.press(key);
  focus = await focused(page);
  check(focus.period === other, `${key} moves the focus to ${JSON.stringify(focus)}, not ${other}`);
  await whileListLoads(page, () => page.keyboard.press('Enter'));
  check(hashParams(page).get('month') === String(Number(other.slice(5))), `Enter on ${other} leads to ${page.url()}`);

  // The counts as a table, for screen readers and keyboards.
  await openView(page, `#/?programmes=${PROGRAMME}`);
  await page.click('#chart details.chart-table summary');
  const rows = await page.$$eval('#chart details.chart-table tbody tr', (trs) => trs.map((tr) => Number(tr.lastElementChild.textContent)));
  check(rows.reduce((a, b) => a + b, 0) === expect.programme.totalCount, `the table's counts ${rows} do not add up to ${expect.programme.totalCount}`);
  await visited(page, 'explorer-chart-table', { show: '#chart details.chart-table' });

  // The year and month fields.
  const someYear = Number(expect.programme.releases[0].publishedOn.slice(0, 4));
  await whileListLoads(page, () => page.selectOption('#year', String(someYear)));
  check(hashParams(page).get('year') === String(someYear), `choosing ${someYear} leads to ${page.url()}`);
  await checkTotal(page, await countOf({ programmes: [PROGRAMME], year: someYear }), `the year field at ${someYear}`);
  const someMonth = Number(expect.programme.releases[0].publishedOn.slice(5, 7));
  await page.waitForFunction(() => !document.querySelector('#month').disabled);
  await whileListLoads(page, () => page.selectOption('#month', String(someMonth)));
  check(hashParams(page).get('month') === String(someMonth), `choosing month ${someMonth} leads to ${page.url()}`);
  await checkTotal(page, await countOf({ programmes: [PROGRAMME], year: someYear, month: someMonth }), `the month field at ${someMonth}`);
  await checkFeed(page, { programme: PROGRAMME, from: `${someYear}-${String(someMonth).padStart(2, '0')}-01`,
    to: new Date(Date.UTC(someYear, someMonth, 0)).toISOString().slice(0, 10) }, 'a month chosen');

  // The axis follows the chosen dates, beyond the months that have releases.
  const first = `${expect.oldest.slice(0, 4)}-01-01`;
  const last = `${expect.newest.slice(0, 4)}-12-31`;
  await openView(page, `#/?from=${first}&to=${last}`);
  const kind = await page.getAttribute('#chart svg', 'data-granularity');
  const axis = [await page.getAttribute('#chart svg', 'data-first'), await page.getAttribute('#chart svg', 'data-last')];
  check(axis[0] === periodOf(first, kind) && axis[1] === periodOf(last, kind),
    `from ${first} to ${last}, the axis runs from ${axis[0]} to ${axis[1]}`);
}

/** Point 5: programmes' acronyms expanded, their descriptions and pages. */
async function programmes(page, expect) {
  const programme = expect.catalogue.programmes.find((p) => p.slug === PROGRAMME);
  check(programme.acronym, `${PROGRAMME} has no acronym`);
  const label = await page.textContent(`label[for="programme-${PROGRAMME}"]`);
  check(label.includes(programme.acronym) && label.includes(programme.name), `the programme's label "${label}" does not expand ${programme.acronym}`);
  const listed = await page.$$eval('#release-list abbr', (abbrs) => abbrs.map((abbr) => [abbr.textContent, abbr.title]));
  check(listed.length > 0 && listed.every(([text, title]) => expect.catalogue.programmes.some((p) => p.acronym === text && p.name === title)),
    `the releases' programmes are not expanded: ${JSON.stringify(listed)}`);
  const legend = await page.$$eval('#chart .legend abbr', (abbrs) => abbrs.map((abbr) => abbr.title));
  check(legend.includes(programme.name), `the legend does not expand ${programme.acronym}: ${legend}`);
  await page.click('#about-programmes summary');
  const about = await page.textContent('#about-programmes');
  check(about.includes(programme.description), `"About the programmes" lacks ${programme.acronym}'s description`);
  check(await page.$(`#about-programmes a[href="/programmes/${PROGRAMME}"]`) !== null, `"About the programmes" does not link to /programmes/${PROGRAMME}`);
  const target = await fetch(url(`/programmes/${PROGRAMME}`), { headers: { accept: 'text/html' } });
  check(target.ok, `"About the programmes" links to /programmes/${PROGRAMME}, which answers ${target.status}`);
  await visited(page, 'explorer-about-programmes', { fullPage: true });
  await page.click('#about-programmes summary');
}

/**
 * Point 9: a release has its own page, `/releases/<slug>`, whose back link returns to the very
 * list it was opened from (here the second page); old `#/release/<slug>` addresses lead there.
 */
async function releasePage(page, expect) {
  await openView(page, '#/');
  await whileListLoads(page, () => page.click('#pager a[rel="next"]'));
  const list = new URL(page.url());
  const status = await page.textContent('#status');
  const [first] = await shownReleases(page);
  const slug = await page.$eval(`#release-list > li[data-id="${first.id}"]`, (li) => li.dataset.slug);
  const address = `/releases/${encodeURIComponent(slug)}`;
  await Promise.all([page.waitForURL(url(address)), page.click(`#release-list > li[data-id="${first.id}"] h3 a`)]);
  const { release } = await api('query($slug: String!) { release(slug: $slug) { title publishedOn } }', { slug });
  check(await page.textContent('h1') === release.title, `${address} is titled "${await page.textContent('h1')}", not "${release.title}"`);
  check(expect.all.releases.some((one) => one.id === first.id && one.slug === slug), `the explorer links to ${address}, not a release of the API`);
  await page.waitForFunction(() => document.querySelector('a.back')?.getAttribute('href') !== '/');
  const back = await page.getAttribute('a.back', 'href');
  check(back === `/${list.hash}`, `the release page's back link leads to ${back}, not to the list it came from (/${list.hash})`);
  await visited(page, 'release-page', { fullPage: true });

  await whileListLoads(page, () => page.click('a.back'));
  check(page.url() === list.toString(), `the back link leads to ${page.url()}, not ${list}`);
  check(await page.textContent('#status') === status, `back on the list, the status is "${await page.textContent('#status')}", not "${status}"`);
  check((await shownReleases(page))[0].id === first.id, 'back on the list, it is not the page the release was opened from');

  // An address of the explorer's earlier versions.
  await Promise.all([page.waitForURL(url(address)), page.goto(url(`/#/release/${encodeURIComponent(slug)}`))]);
  check(await page.textContent('h1') === release.title, `#/release/${slug} does not lead to the release's page`);
}

/**
 * The server's own pages as a reader without JavaScript gets them (and a crawler, and a link
 * preview): a release, its programme and its office, all complete in the HTML, on a desktop and
 * a phone; then the same pages and the 404 page with JavaScript, through axe.
 */
async function serverPages(browser, expect) {
  const first = expect.programme.releases[0];
  const { release } = await api(`query($slug: String!) { release(slug: $slug) {
    title publishedOn summary programmes { slug } offices { slug } related { slug } } }`, { slug: first.slug });
  const address = `/releases/${encodeURIComponent(first.slug)}`;
  const office = release.offices[0].slug;
  for (const [name, viewport] of [['desktop', { width: 1280, height: 900 }], ['phone', { width: 390, height: 844 }]]) {
    const context = await isolatedContext(browser, { viewport, javaScriptEnabled: false, isMobile: name === 'phone' });
    const page = await watchedPage(context, `release page without JavaScript (${name})`);
    await page.goto(url(address));
    check(await page.textContent('h1') === release.title, `without JavaScript, ${address} shows "${await page.textContent('h1')}"`);
    check(await page.getAttribute('article time', 'datetime') === release.publishedOn, `${address}: the date is not ${release.publishedOn}`);
    if (release.summary) check((await page.textContent('article .summary')).trim() === release.summary, `${address}: the summary is not the API's`);
    const links = await page.$$eval('article a', (anchors) => anchors.map((a) => a.getAttribute('href')));
    for (const programme of release.programmes) {
      check(links.includes(`/programmes/${programme.slug}`), `${address} does not link its programme ${programme.slug}`);
    }
    check(links.includes(`/offices/${office}`), `${address} does not link its office ${office}`);
    const related = await page.$$eval('ul.related a', (anchors) => anchors.map((a) => a.getAttribute('href')));
    check(JSON.stringify(related) === JSON.stringify(release.related.map((r) => `/releases/${r.slug}`)),
      `${address} lists related releases ${JSON.stringify(related)}, the API ${JSON.stringify(release.related.map((r) => r.slug))}`);
    await page.screenshot({ path: path.join(artifactsDir, `release-page-no-js-${name}.png`), fullPage: true });

    // The programme's page, reached by its link, lists its newest releases as the API does.
    await page.click(`article a[href="/programmes/${PROGRAMME}"]`);
    await page.waitForURL(url(`/programmes/${PROGRAMME}`));
    const titles = await page.$$eval('ol.releases h3 a', (anchors) => anchors.map((a) => a.textContent));
    const newest = expect.programme.releases.slice(0, 20).map((r) => r.title);
    check(JSON.stringify(titles) === JSON.stringify(newest), `without JavaScript, /programmes/${PROGRAMME} lists ${JSON.stringify(titles)}`);
    await page.screenshot({ path: path.join(artifactsDir, `programme-page-no-js-${name}.png`), fullPage: true });
    noProblems(`the server's pages without JavaScript (${name})`);
    await context.close();
  }

  const context = await isolatedContext(browser, { viewport: { width: 1280, height: 900 } });
  const page = await watchedPage(context, 'server pages');
  for (const [name, target] of [['release-page-js', address], ['programme-page', `/programmes/${PROGRAMME}`], ['office-page', `/offices/${office}`]]) {
    await page.goto(url(target));
    await visited(page, name, { fullPage: true });
  }
  // The 404 is the point here: the reports of that one response (and of nothing else) are expected.
  const before = problems.length;
  const missing = await page.goto(url('/releases/no-such-release'));
  check(missing.status() === 404, `an unknown release answers ${missing.status()}`);
  const unexpected = problems.splice(before).filter((problem) => !/404 for .*no-such-release|status of 404/.test(problem));
  problems.push(...unexpected);
  check((await page.textContent('h1')) === 'No page at this address', 'the 404 page does not say so');
  await visited(page, 'not-found-page');
  noProblems("the server's pages with JavaScript");
  await context.close();
}

async function explorer(browser, expect) {
  const context = await isolatedContext(browser, { viewport: { width: 1280, height: 900 } });
  const page = await watchedPage(context, 'explorer');
  await firstLoad(page);
  await chartSettled(page);
  await visited(page, 'explorer-start');
  await skipLink(page);
  await checkPaging(page, expect.all, 'explorer');
  noProblems('the explorer did not open or page cleanly');

  // Choose the programme, as a user would: by its label.
  await whileListLoads(page, () => page.check(`#programme-${PROGRAMME}`));
  check(page.url().includes(`programmes=${PROGRAMME}`), `the URL does not keep the choice: ${page.url()}`);
  await checkTotal(page, expect.programme.totalCount, 'the programme chosen');
  const listed = await listedReleases(page);
  check(sameList(listed, expect.programme.releases),
    `the explorer lists ${JSON.stringify(listed, null, 1)}\nthe API lists ${JSON.stringify(expect.programme.releases.map(({ id, title }) => ({ id, title })), null, 1)}`);
  await checkFeed(page, { programme: PROGRAMME }, 'the programme chosen');

  // Back to the first page for the picture, through the shareable URL.
  await openView(page, `#/?programmes=${PROGRAMME}`);
  await page.waitForSelector(`#chart svg rect.segment[data-series="${PROGRAMME}"]`);
  const granularity = await page.getAttribute('#chart svg', 'data-granularity');
  const segments = await chartSegments(page);
  const charted = segments.reduce((sum, segment) => sum + segment.count, 0);
  check(segments.length > 0 && segments.every((segment) => segment.series === PROGRAMME),
    `the chart should show only ${PROGRAMME}: ${JSON.stringify(segments)}`);
  check(charted === expect.programme.totalCount, `the chart counts ${charted} releases, the API ${expect.programme.totalCount}`);
  const periods = new Set(expect.programme.releases.map((release) => periodOf(release.publishedOn, granularity)));
  check(segments.length === periods.size && segments.every((segment) => periods.has(segment.period)),
    `the chart's periods ${segments.map((segment) => segment.period)} are not those of the releases ${[...periods]}`);
  const chartText = await page.textContent('#chart');
  check(chartText.includes(`Releases per ${granularity}`) && chartText.includes('of publication'), 'the chart has no axis titles');
  const legendText = await page.textContent('#chart .legend');
  check(legendText.includes('SCORE') && legendText.includes(String(expect.programme.totalCount)),
    `the legend does not name SCORE with its count: "${legendText}"`);
  await visited(page, 'explorer', { fullPage: true });
  await programmes(page, expect);
  noProblems('the explorer failed while choosing a programme');

  // Every filter in the feed's address.
  const office = expect.catalogue.offices[0].slug;
  await openView(page, `#/?programmes=${PROGRAMME}&office=${office}&from=2017-01-01&to=2021-12-31&q=work&order=OLDEST_FIRST`);
  await checkFeed(page, { programme: PROGRAMME, office, from: '2017-01-01', to: '2021-12-31', search: 'work' }, 'every filter');
  await visited(page, 'explorer-every-filter');

  await releasePage(page, expect);
  noProblems('the explorer failed on a release\'s page');
  await chart(page, expect);
  noProblems('the explorer\'s chart failed');
  await unusable(page, expect);
  await suggestions(page);
  noProblems('the explorer failed on unusable addresses, errors or empty results');
  await context.close();
}

async function phone(browser, expect) {
  const context = await isolatedContext(browser, {
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
  });
  const page = await watchedPage(context, 'explorer on a phone');
  await openView(page, `#/?programmes=${PROGRAMME}`);
  await page.waitForSelector(`#chart svg rect.segment[data-series="${PROGRAMME}"]`);
  await checkTotal(page, expect.programme.totalCount, 'on a phone');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `on a phone the page is ${overflow}px wider than the screen`);
  const chartWidth = await page.$eval('#chart svg', (svg) => svg.getBoundingClientRect().width);
  check(chartWidth <= 390, `on a phone the chart is ${chartWidth}px wide`);

  // Point 2: the folded filters show what is chosen, as chips that remove it.
  check(!await page.$eval('#filter-panel', (details) => details.open), 'on a phone the filters do not start folded');
  const chips = await page.$$eval('#active-filters button', (buttons) => buttons.map((b) => b.getAttribute('aria-label')));
  check(chips.length === 1 && chips[0] === 'Remove programme SCORE', `the folded filters show the chips ${JSON.stringify(chips)}`);
  await visited(page, 'explorer-phone');

  await page.click('#filter-summary');
  const button = await page.$eval('#show-results', (b) => ({ text: b.textContent, top: b.getBoundingClientRect().top, bottom: b.getBoundingClientRect().bottom }));
  check(button.text === `Show ${expect.programme.totalCount} releases`, `the open filters offer "${button.text}"`);
  check(button.top >= 0 && button.bottom <= 844, `"${button.text}" is out of sight (${button.top}–${button.bottom}px)`);
  check(await page.isHidden('#active-filters'), 'the chips stay while the filters are open');
  await visited(page, 'explorer-phone-filters');
  await page.tap('#show-results');
  check(!await page.$eval('#filter-panel', (details) => details.open), `"${button.text}" leaves the filters open`);
  const focus = await focused(page);
  check(focus.id === 'results-heading', `"${button.text}" leaves the focus on ${JSON.stringify(focus)}`);
  check((await resultsAtTop(page)).ok, `after "${button.text}" the results are not in view`);
  check(await page.isVisible('#active-filters button'), 'the chips do not come back with the filters folded');

  await whileListLoads(page, () => page.tap('#active-filters button'));
  check(!hashParams(page).has('programmes'), `removing the chip leads to ${page.url()}`);
  await checkTotal(page, expect.all.totalCount, 'the programme\'s chip removed');
  check(await page.isHidden('#active-filters'), 'with no filter left, chips remain');
  await chartSettled(page);

  // Point 6: bars a finger can hit, grouped by quarter or year when months would be too thin.
  const granularity = await page.getAttribute('#chart svg', 'data-granularity');
  const bars = await chartBars(page);
  const thinnest = Math.min(...bars.map((bar) => bar.width));
  check(thinnest >= MIN_TARGET, `on a phone the thinnest bar is ${thinnest}px wide (grouped by ${granularity})`);
  const months = new Set(expect.all.releases.map((release) => release.publishedOn.slice(0, 7))).size;
  check(granularity !== 'month' || months * MIN_TARGET <= chartWidth, `on a phone ${months} months are drawn as months`);
  await visited(page, 'explorer-phone-chart');
  const bar = bars.find((one) => /^\d{4}$/.test(one.period)) ?? bars[0];
  await whileListLoads(page, () => page.tap(`#chart .bar[data-period="${bar.period}"]`));
  await chartSettled(page);
  check(hashParams(page).get('year') === bar.period.slice(0, 4), `tapping ${bar.period} leads to ${page.url()}`);
  await checkTotal(page, await countOf(granularity === 'year' ? { year: Number(bar.period) } : toFilterOfPeriod(bar.period)),
    `the bar of ${bar.period} on a phone`);

  // Point 1 on a phone.
  await openView(page, '#/');
  await checkPaging(page, expect.all, 'explorer-phone');
  noProblems('the explorer failed on a phone-sized screen');
  await context.close();
}

/** The filter of a chart period of a phone ("2021-Q2", "2021-06"). */
function toFilterOfPeriod(period) {
  const year = Number(period.slice(0, 4));
  const quarter = /Q(\d)$/.exec(period);
  if (!quarter) return { year, month: Number(period.slice(5, 7)) };
  const firstMonth = (Number(quarter[1]) - 1) * 3 + 1;
  const end = new Date(Date.UTC(year, firstMonth + 2, 0)).toISOString().slice(0, 10);
  return { publishedFrom: `${year}-${String(firstMonth).padStart(2, '0')}-01`, publishedTo: end };
}

async function playground(browser, expect) {
  const context = await isolatedContext(browser, { viewport: { width: 1280, height: 900 } });
  const page = await watchedPage(context, 'playground');
  await page.goto(url('/graphql'));
  await page.waitForSelector('.graphiql-container');
  await page.waitForFunction(() => document.querySelector('.graphiql-query-editor')?.textContent.includes('ReleasesByProgramme'));
  const run = page.locator('.graphiql-execute-button');
  const answered = page.waitForResponse((response) => response.url() === url('/graphql')
    && (response.request().postData() ?? '').includes('ReleasesByProgramme'));
  if (await run.count()) {
    await run.first().click();
  } else {
    await page.click('.graphiql-query-editor .CodeMirror');
    await page.keyboard.press('Control+Enter');
  }
  await answered;
  // The whole text of the results pane: CodeMirror only puts the lines in view into the DOM.
  const shown = await page.waitForFunction(() => {
    const pane = document.querySelector('.graphiql-response .CodeMirror');
    const text = pane?.CodeMirror?.getValue() ?? pane?.textContent ?? '';
    return text.includes('"data"') && text.includes('"totalCount"') && text;
  });
  const result = JSON.parse(await shown.jsonValue());
  check(result.data?.releases?.totalCount === expect.programme.totalCount,
    `the playground shows ${JSON.stringify(result).slice(0, 300)}, not the ${expect.programme.totalCount} ${PROGRAMME} releases`);
  check(Number.isInteger(result.extensions?.cost?.cost) && result.extensions.cost.cost > 0,
    `the playground shows no cost report: ${JSON.stringify(result.extensions ?? {})}`);
  // GraphiQL's own markup is vendored, not ours to change: axe checks the page around it.
  await visited(page, 'playground', { exclude: ['#graphiql'] });

  // Point 7: the playground leads back to the explorer.
  await page.click('a[href="/"]');
  await page.waitForSelector(`#programme-${PROGRAMME}`);
  await listSettled(page);
  check(new URL(page.url()).pathname === '/', `the playground's link leads to ${page.url()}`);
  noProblems('the playground failed');
  await context.close();
}

/** Waits for the explorer's subscription to new releases (its POST with `Accept: text/event-stream`). */
function newReleasesStream(page) {
  return page.waitForResponse((response) => response.url() === url('/graphql')
    && (response.request().postData() ?? '').includes('subscription NewReleases'));
}

/** An event stream as the server sends it: `next` events with `results`, then `complete`. */
function eventStream(...results) {
  return results.map((result) => `event: next\ndata: ${JSON.stringify(result)}\n\n`).join('')
    + ': keep-alive\n\nevent: complete\ndata: \n\n';
}

/**
 * Point 10, without the server: a stream that ends after an event is opened again with `after`
 * set to that event's cursor, and a server without live updates (the SQLite archive answers
 * SUBSCRIPTIONS_UNAVAILABLE) is not asked again, for any filter, with no console error. The
 * streams are answered here, in the server's format.
 */
async function liveResumes(browser) {
  const context = await isolatedContext(browser, { viewport: { width: 1280, height: 900 } });
  const page = await watchedPage(context, 'explorer with a stream that ends');
  const asked = [];
  const answers = [
    eventStream({ data: { releaseEvents: { kind: 'PUBLISHED', cursor: 'cursor-of-the-first', releaseId: 'UmVsZWFzZTpmaXJzdA==' } } }),
    eventStream({ data: null, errors: [{ message: 'live updates need the PostgreSQL archive', extensions: { code: 'SUBSCRIPTIONS_UNAVAILABLE' } }] }),
  ];
  await page.route('**/graphql', (route) => {
    const body = route.request().postData() ?? '';
    if (!body.includes('subscription NewReleases')) return route.fallback();
    asked.push(JSON.parse(body).variables);
    return route.fulfill({ status: 200, contentType: 'text/event-stream', body: answers[asked.length - 1] ?? answers[1] });
  });
  await openView(page, '#/');
  await page.waitForSelector('#live-notice button');
  check(await page.textContent('#live-notice') === '1 new release — show it', `after one event the notice says "${await page.textContent('#live-notice')}"`);
  for (let waited = 0; asked.length < 2 && waited < 5_000; waited += 100) await sleep(100);
  check(asked.length === 2, `the ended stream was opened again ${asked.length - 1} times in 5 s`);
  check(asked[0].after === null && JSON.stringify(asked[0].filter) === '{}', `the first stream asks for ${JSON.stringify(asked[0])}`);
  check(asked[1].after === 'cursor-of-the-first', `the stream is opened again with ${JSON.stringify(asked[1])}, not after the last event's cursor`);
  // Refused: never asked again, not even for other filters; what was counted stays.
  await sleep(2_500);
  await whileListLoads(page, () => page.check(`#programme-${PROGRAMME}`));
  await sleep(1_500);
  check(asked.length === 2, `after SUBSCRIPTIONS_UNAVAILABLE the explorer subscribed ${asked.length - 2} more times`);
  check(await page.textContent('#live-notice') === '', `with other filters and no live updates the notice says "${await page.textContent('#live-notice')}"`);
  noProblems('the explorer failed with a stream that ends or is refused');
  await context.close();
}

/**
 * Point 10 with the server: releases published while the explorer shows the programme's list.
 * The program running this script ingests one release of the programme and one of none, dated
 * the day after the archive's newest: the notice counts the first only, takes no focus, and
 * its button lists the new release first and goes away.
 */
async function liveNotice(browser) {
  const context = await isolatedContext(browser, { viewport: { width: 1280, height: 900 } });
  const page = await watchedPage(context, 'explorer with new releases');
  const streamed = newReleasesStream(page);
  await openView(page, `#/?programmes=${PROGRAMME}`);
  const stream = await streamed;
  check((stream.headers()['content-type'] ?? '').startsWith('text/event-stream'), `the subscription is answered with ${stream.headers()['content-type']}`);
  const { filter } = JSON.parse(stream.request().postData()).variables;
  check(JSON.stringify(filter) === JSON.stringify({ programmes: [PROGRAMME] }), `the explorer subscribes with the filter ${JSON.stringify(filter)}`);
  check(await page.textContent('#live-notice') === '', 'a notice of new releases before any was published');
  const before = await countOf({ programmes: [PROGRAMME] });
  const firstShown = (await shownReleases(page))[0];

  const { releases } = await api('{ releases(first: 1) { nodes { publishedOn } } }');
  const next = new Date(`${releases.nodes[0].publishedOn}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  // The reader is busy elsewhere on the page: the notice must leave the focus there.
  await page.focus('#order');
  await step('subscribed', 1);
  const published = await step('ingest', next.toISOString().slice(0, 10));
  const started = Date.now();
  await page.waitForSelector('#live-notice button', { timeout: 5_000 })
    .catch(() => { throw new Error(`no notice of the new release ${Date.now() - started} ms after its ingest`); });
  // The release of no programme comes in the same commit: it must not be counted, now or later.
  await sleep(1_500);
  const notice = await page.textContent('#live-notice');
  check(notice === '1 new release — show it', `after "${published.matching}" and "${published.unrelated}" were published the notice says "${notice}"`);
  check(await page.getAttribute('#live-notice', 'role') === 'status', 'the notice is not a polite live region (role=status)');
  const focus = await focused(page);
  check(focus.id === 'order', `the notice took the focus to ${JSON.stringify(focus)}`);
  check((await shownReleases(page))[0].id === firstShown.id, 'the list changed before the reader asked for the new release');
  await visited(page, 'explorer-live-notice', { show: '#live-notice' });

  await whileListLoads(page, () => page.click('#live-notice button'));
  const shown = await shownReleases(page);
  check(shown[0].title === published.matching, `"show it" lists ${JSON.stringify(shown[0])} first, not "${published.matching}"`);
  check(!shown.some((release) => release.title === published.unrelated), `the programme's list shows "${published.unrelated}"`);
  await checkTotal(page, before + 1, '"show it"');
  check(await countOf({ programmes: [PROGRAMME] }) === before + 1, `the API does not count the new ${PROGRAMME} release`);
  check(await page.textContent('#live-notice') === '', `after "show it" the notice says "${await page.textContent('#live-notice')}"`);
  const after = await focused(page);
  check(after.id === 'results-heading', `after "show it" the focus is on ${JSON.stringify(after)}, not the results' heading`);
  await chartSettled(page);
  await visited(page, 'explorer-live-notice-shown');
  noProblems('the explorer failed to show new releases');
  await context.close();
}

async function main() {
  await mkdir(artifactsDir, { recursive: true });
  const [programme, all, catalogue, ends] = await Promise.all([
    releasesMatching({ programmes: [PROGRAMME] }),
    releasesMatching({}),
    api('{ programmes { slug name acronym description } offices { slug name } }'),
    api(`{ oldest: releases(first: 1, orderBy: OLDEST_FIRST) { nodes { publishedOn } }
           newest: releases(first: 1) { nodes { publishedOn } } }`),
  ]);
  check(programme.totalCount > 0 && programme.releases.length === programme.totalCount,
    `the API lists ${programme.releases.length} of ${programme.totalCount} ${PROGRAMME} releases: load the seeds first`);
  const expect = {
    programme, all, catalogue, oldest: ends.oldest.nodes[0].publishedOn, newest: ends.newest.nodes[0].publishedOn,
  };
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
  });
  try {
    await explorer(browser, expect);
    await phone(browser, expect);
    await serverPages(browser, expect);
    await playground(browser, expect);
    await liveResumes(browser);
    if (INGEST) await liveNotice(browser);
  } finally {
    await browser.close();
  }
  console.log(`browser: the explorer lists, pages and charts the ${all.totalCount} releases and the ${programme.totalCount} `
    + `${PROGRAMME} releases on a desktop and a phone, explains unusable addresses and errors, passes axe-core in every `
    + `state; the release, programme and office pages read complete without JavaScript; the playground works; the notice of `
    + `new releases resumes its stream${INGEST ? ' and counts a release published while the page is open' : ' (run with --ingest to publish one)'}; `
    + `screenshots in ${artifactsDir}`);
}

main().catch((error) => {
  const pending = problems.length ? `\nalso:\n  ${problems.join('\n  ')}` : '';
  console.error(`browser: ${error.message}${pending}`);
  if (process.env.DEBUG) console.error(error.stack);
  process.exit(1);
});
