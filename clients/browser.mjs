// The explorer and the playground in a real headless browser (Chromium, through playwright-core).
//
//   node clients/browser.mjs <base_url> <artifacts_dir>
//
// Opens the explorer on <base_url>/, chooses the `score` programme and checks the list, the chart
// and a release's page against the API's own answers; opens the same view on a phone-sized
// window; then runs the example query in the playground on /graphql. Saves explorer.png,
// explorer-phone.png and playground.png into <artifacts_dir>. Fails if a page asks anything of
// another origin, logs a console error, throws, or gets an HTTP error. Exits 0 on success, 1 with
// the reason otherwise (DEBUG=1 adds the stack). Chromium is $CHROMIUM_PATH, else /usr/bin/chromium.

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';

const PROGRAMME = 'score';
const TIMEOUT_MS = 20_000;

const [baseArg, artifactsDir] = process.argv.slice(2);
if (!baseArg || !artifactsDir) {
  console.error('usage: node clients/browser.mjs <base_url> <artifacts_dir>');
  process.exit(2);
}
const base = new URL(baseArg);
const origin = base.origin;
const url = (pathAndHash) => new URL(pathAndHash, base).toString();

/** Everything that went wrong in a page, whatever the step: checked after each step. */
const problems = [];

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function sameList(actual, expected) {
  return actual.length === expected.length
    && actual.every((item, i) => item.id === expected[i].id && item.title === expected[i].title);
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

/** Every release of the programme, all pages, as the API lists them (newest first). */
async function releasesOf(programme) {
  const all = [];
  let after = null;
  let totalCount;
  for (;;) {
    const { releases } = await api(`query($filter: ReleaseFilter, $after: String) {
      releases(filter: $filter, first: 100, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } nodes { id slug title publishedOn } } }`,
    { filter: { programmes: [programme] }, after });
    totalCount = releases.totalCount;
    all.push(...releases.nodes);
    if (!releases.pageInfo.hasNextPage) return { totalCount, releases: all };
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
    problems.push(`request to another origin: ${route.request().method()} ${target}`);
    return route.abort('blockedbyclient');
  });
  return context;
}

/** A page whose console errors, uncaught exceptions and HTTP errors become problems. */
async function watchedPage(context, name) {
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${name}: console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`${name}: uncaught exception: ${error.message}`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${name}: ${response.status()} for ${response.url()}`);
  });
  page.on('requestfailed', (request) => {
    if (new URL(request.url()).origin === origin) {
      problems.push(`${name}: request failed: ${request.url()} (${request.failure()?.errorText})`);
    }
  });
  return page;
}

function noProblems(step) {
  check(problems.length === 0, `${step}:\n  ${problems.join('\n  ')}`);
}

/** Waits until the release list is not loading. */
async function listSettled(page) {
  await page.waitForFunction(() => {
    const list = document.querySelector('#release-list');
    return list && !list.hasAttribute('aria-busy') && document.querySelector('#status').textContent !== '';
  });
}

/** Runs `action` and waits for the explorer's answer to the list query it causes. */
async function whileListLoads(page, action) {
  const answered = page.waitForResponse((response) =>
    response.url() === url('/graphql') && (response.request().postData() ?? '').includes('query Releases'));
  await action();
  await answered;
  await listSettled(page);
}

/** The releases the explorer lists, over all its pages (following "Next page"). */
async function listedReleases(page) {
  const listed = [];
  for (let pages = 0; pages < 200; pages += 1) {
    listed.push(...await page.$$eval('#release-list > li', (items) => items.map((li) => ({
      id: li.dataset.id, title: li.querySelector('h3').textContent,
    }))));
    const next = await page.$('#pager a[rel="next"]');
    if (!next) return listed;
    await whileListLoads(page, () => next.click());
  }
  throw new Error('the explorer lists more than 200 pages');
}

/** Chart segments of the explorer: [{ series, month, count }]. */
function chartSegments(page) {
  return page.$$eval('#chart svg rect.segment', (rects) => rects.map((rect) => ({
    series: rect.dataset.series, month: rect.dataset.month, count: Number(rect.dataset.count),
  })));
}

async function explorer(browser, expected) {
  const context = await isolatedContext(browser, { viewport: { width: 1280, height: 900 } });
  const page = await watchedPage(context, 'explorer');
  await page.goto(url('/'));
  await page.waitForSelector(`#programme-${PROGRAMME}`);
  await listSettled(page);
  noProblems('the explorer did not open cleanly');

  // Choose the programme, as a user would: by its label.
  await whileListLoads(page, () => page.check(`#programme-${PROGRAMME}`));
  check(page.url().includes(`programmes=${PROGRAMME}`), `the URL does not keep the choice: ${page.url()}`);
  const status = await page.textContent('#status');
  check(status.includes(String(expected.totalCount)),
    `the explorer says "${status}", the API counts ${expected.totalCount} releases`);
  const listed = await listedReleases(page);
  check(sameList(listed, expected.releases),
    `the explorer lists ${JSON.stringify(listed, null, 1)}\nthe API lists ${JSON.stringify(expected.releases.map(({ id, title }) => ({ id, title })), null, 1)}`);

  // Back to the first page for the picture, through the shareable URL.
  const firstPage = url(`/#/?programmes=${PROGRAMME}`);
  if (page.url() !== firstPage) await whileListLoads(page, () => page.goto(firstPage));
  await page.waitForSelector(`#chart svg rect.segment[data-series="${PROGRAMME}"]`);
  await page.waitForFunction(() => !document.querySelector('#chart').hasAttribute('aria-busy'));
  const segments = await chartSegments(page);
  const charted = segments.reduce((sum, segment) => sum + segment.count, 0);
  check(segments.length > 0 && segments.every((segment) => segment.series === PROGRAMME),
    `the chart should show only ${PROGRAMME}: ${JSON.stringify(segments)}`);
  check(charted === expected.totalCount, `the chart counts ${charted} releases, the API ${expected.totalCount}`);
  const monthsExpected = new Set(expected.releases.map((release) => release.publishedOn.slice(0, 7)));
  check(segments.length === monthsExpected.size && segments.every((segment) => monthsExpected.has(segment.month)),
    `the chart's months ${segments.map((segment) => segment.month)} are not those of the releases ${[...monthsExpected]}`);
  const chartText = await page.textContent('#chart');
  check(chartText.includes('Releases per month') && chartText.includes('Month of publication'),
    'the chart has no axis titles');
  const legendText = await page.textContent('#chart .legend');
  check(legendText.includes('SCORE') && legendText.includes(String(expected.totalCount)),
    `the legend does not name SCORE with its count: "${legendText}"`);
  await page.screenshot({ path: path.join(artifactsDir, 'explorer.png'), fullPage: true });
  noProblems('the explorer failed while choosing a programme');

  // One release's page, checked against the API.
  const first = expected.releases[0];
  await page.click(`#release-list > li[data-id="${first.id}"] h3 a`);
  await page.waitForSelector('#release-view h2#release-title');
  const { release } = await api(`query($slug: String!) {
    release(slug: $slug) { title publishedOn summary programmes { acronym name } offices { name } related(first: 5) { title } } }`,
  { slug: first.slug });
  const detail = await page.textContent('#release-view');
  check(await page.textContent('#release-view h2') === release.title, `the release page is titled "${await page.textContent('#release-view h2')}"`);
  check(page.url().includes(`#/release/${first.slug}`), `the release page's URL is ${page.url()}`);
  for (const part of [release.summary, ...release.offices.map((office) => office.name),
    ...release.programmes.map((programme) => programme.acronym ?? programme.name),
    ...release.related.map((other) => other.title)]) {
    check(!part || detail.includes(part), `the release page lacks "${part}"`);
  }
  const date = await page.getAttribute('#release-view time', 'datetime');
  check(date === release.publishedOn, `the release page dates it ${date}, the API ${release.publishedOn}`);

  // The back button returns to the same filtered list.
  await whileListLoads(page, () => page.goBack());
  check(await page.isChecked(`#programme-${PROGRAMME}`), 'going back lost the chosen programme');
  noProblems('the explorer failed on a release page');
  await context.close();
}

async function phone(browser, expected) {
  const context = await isolatedContext(browser, {
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
  });
  const page = await watchedPage(context, 'explorer on a phone');
  await page.goto(url(`/#/?programmes=${PROGRAMME}`));
  await listSettled(page);
  await page.waitForSelector(`#chart svg rect.segment[data-series="${PROGRAMME}"]`);
  const status = await page.textContent('#status');
  check(status.includes(String(expected.totalCount)), `on a phone the explorer says "${status}"`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `on a phone the page is ${overflow}px wider than the screen`);
  const chartWidth = await page.$eval('#chart svg', (svg) => svg.getBoundingClientRect().width);
  check(chartWidth <= 390, `on a phone the chart is ${chartWidth}px wide`);
  await page.screenshot({ path: path.join(artifactsDir, 'explorer-phone.png') });
  noProblems('the explorer failed on a phone-sized screen');
  await context.close();
}

async function playground(browser, expected) {
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
  check(result.data?.releases?.totalCount === expected.totalCount,
    `the playground shows ${JSON.stringify(result).slice(0, 300)}, not the ${expected.totalCount} ${PROGRAMME} releases`);
  check(Number.isInteger(result.extensions?.cost?.cost) && result.extensions.cost.cost > 0,
    `the playground shows no cost report: ${JSON.stringify(result.extensions ?? {})}`);
  await page.screenshot({ path: path.join(artifactsDir, 'playground.png') });
  noProblems('the playground failed');
  await context.close();
}

async function main() {
  await mkdir(artifactsDir, { recursive: true });
  const expected = await releasesOf(PROGRAMME);
  check(expected.totalCount > 0 && expected.releases.length === expected.totalCount,
    `the API lists ${expected.releases.length} of ${expected.totalCount} ${PROGRAMME} releases: load the seeds first`);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
  });
  try {
    await explorer(browser, expected);
    await phone(browser, expected);
    await playground(browser, expected);
  } finally {
    await browser.close();
  }
  console.log(`browser: explorer lists and charts the ${expected.totalCount} ${PROGRAMME} releases, `
    + `the release page and the playground work; screenshots in ${artifactsDir}`);
}

main().catch((error) => {
  const pending = problems.length ? `\nalso:\n  ${problems.join('\n  ')}` : '';
  console.error(`browser: ${error.message}${pending}`);
  if (process.env.DEBUG) console.error(error.stack);
  process.exit(1);
});
