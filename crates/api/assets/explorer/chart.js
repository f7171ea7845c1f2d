/**
 * The timeline: releases per month as stacked bars, one colour per series (programme), drawn as
 * plain SVG at the container's pixel width so that text keeps its size on any screen. When
 * months would make bars too thin to point at, they are grouped by quarter, or by year.
 *
 * Each bar is a toggle button (click, Enter or Space) that lists only its period; the arrow
 * keys, Home and End move between bars, which are one stop for the Tab key. The same counts come
 * as a table too. Bars carry data-period and their segments data-series, data-period and
 * data-count, for tests and tools.
 */

import { h, s } from './dom.js';
import { MONTHS } from './state.js';

const MARGIN = { top: 12, right: 12, bottom: 48, left: 48 };
const NARROW_MARGIN = { top: 12, right: 6, bottom: 48, left: 40 };

/** Months as consecutive integers, so that gaps between them are easy to fill. */
export const monthIndex = (year, month) => year * 12 + (month - 1);
const yearOf = (index) => Math.floor(index / 12);
const monthOf = (index) => index % 12;

/** Periods a bar can stand for, finest first; each starts on a multiple of its size in months. */
const GRANULARITIES = [
  { kind: 'month', size: 1 },
  { kind: 'quarter', size: 3 },
  { kind: 'year', size: 12 },
];

/** The period of `kind` that starts at month index `start`. */
function period(kind, start) {
  const year = yearOf(start);
  const month = monthOf(start) + 1;
  if (kind === 'month') {
    return { kind, start, end: start, year, month, key: `${year}-${String(month).padStart(2, '0')}`,
      long: `${MONTHS[month - 1]} ${year}`, short: MONTHS[month - 1].slice(0, 3) };
  }
  if (kind === 'quarter') {
    const quarter = Math.floor((month - 1) / 3) + 1;
    return { kind, start, end: start + 2, year, quarter, key: `${year}-Q${quarter}`,
      long: `${MONTHS[month - 1]} to ${MONTHS[month + 1]} ${year}`, short: `Q${quarter}` };
  }
  return { kind, start, end: start + 11, year, key: String(year), long: String(year), short: String(year) };
}

/**
 * The chart of `series` ([{ key, label, name, color, counts: [{ year, month, count }] }]) over
 * the months from `first` to `last` (month indices; null: the first or last month with a
 * release), `width` pixels wide, bars at least `minBand` pixels apart when possible. `selected`
 * ({ year, month }) is the period the list shows, its bar pressed; `onChoose(period)` runs when
 * a bar is chosen. Returns { svg, table, kind } or null when no series has any release.
 */
export function timeline({ series, first = null, last = null, width, minBand, selected, onChoose }) {
  const counts = series.map((one) => new Map(one.counts.map((c) => [monthIndex(c.year, c.month), c.count])));
  const indices = counts.flatMap((byMonth) => [...byMonth.keys()]);
  if (!indices.length) return null;
  const from = Math.min(first ?? Infinity, ...indices);
  const to = Math.max(last ?? -Infinity, ...indices);

  const narrow = width < 500;
  const margin = narrow ? NARROW_MARGIN : MARGIN;
  const height = narrow ? 200 : 240;
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;

  let periods = [];
  for (const { kind, size } of GRANULARITIES) {
    periods = [];
    for (let start = from - (monthOf(from) % size); start <= to; start += size) periods.push(period(kind, start));
    if (plotWidth / periods.length >= minBand) break;
  }
  const { kind } = periods[0];
  const noun = kind;
  const byPeriod = periods.map((p) => series.map((_, k) => {
    let count = 0;
    for (let month = p.start; month <= p.end; month += 1) count += counts[k].get(month) ?? 0;
    return count;
  }));
  const totals = byPeriod.map((values) => values.reduce((a, b) => a + b, 0));

  const ticks = countTicks(Math.max(...totals));
  const top = ticks.at(-1);
  const band = plotWidth / periods.length;
  // Gaps between bars only while bars are wide enough to spare them; few periods make no slabs.
  const gap = band >= 4 ? Math.min(band * 0.2, 4) : 0;
  const barWidth = Math.max(Math.min(band - gap, 40), 0.5);
  const x = (i) => margin.left + i * band;
  const y = (count) => margin.top + plotHeight - (count / top) * plotHeight;

  const grid = ticks.map((tick) => s('g', { class: 'tick', 'aria-hidden': 'true' },
    s('line', { x1: margin.left, x2: width - margin.right, y1: y(tick), y2: y(tick) }),
    s('text', { x: margin.left - 6, y: y(tick), 'text-anchor': 'end', 'dominant-baseline': 'middle' }, tick)));

  const isSelected = (p) => selected?.year === p.year
    && ((p.kind === 'month' && selected.month === p.month) || (p.kind === 'year' && !selected.month));
  const bars = [];
  periods.forEach((p, i) => {
    if (!totals[i]) return;
    const parts = series.length > 1
      ? ` (${series.map((one, k) => byPeriod[i][k] && `${one.label} ${byPeriod[i][k]}`).filter(Boolean).join(', ')})`
      : '';
    const label = `${p.long}: ${releases(totals[i])}${parts}`;
    let below = 0;
    const segments = series.map((one, k) => {
      const count = byPeriod[i][k];
      if (!count) return null;
      const segment = s('rect', {
        class: 'segment',
        x: x(i) + (band - barWidth) / 2,
        y: y(below + count),
        width: barWidth,
        height: y(below) - y(below + count),
        fill: one.color,
        dataset: { series: one.key, period: p.key, count },
      }, s('title', {}, `${one.label}: ${releases(count)} in ${p.long}`));
      below += count;
      return segment;
    });
    bars.push(s('g', {
      class: 'bar', role: 'button', tabindex: '-1', 'aria-label': label,
      'aria-pressed': String(isSelected(p)), dataset: { period: p.key },
    },
    // The whole column answers, so that a bar of one release is as easy to hit as the tallest.
    s('rect', { class: 'hit', x: x(i), y: margin.top, width: band, height: plotHeight }, s('title', {}, label)),
    segments));
  });
  (bars.find((bar) => bar.getAttribute('aria-pressed') === 'true') ?? bars[0]).setAttribute('tabindex', '0');

  const axis = [
    s('line', { class: 'axis', x1: margin.left, x2: width - margin.right, y1: y(0), y2: y(0) }),
    ...timeLabels(periods, band).map(({ i, text, anchor }) => s('g', { class: 'tick' },
      s('line', { x1: x(i), x2: x(i), y1: y(0), y2: y(0) + 4 }),
      s('text', { x: anchor === 'middle' ? x(i) + band / 2 : x(i) + 3, y: y(0) + 16, 'text-anchor': anchor }, text))),
    s('text', { class: 'axis-title', x: margin.left + plotWidth / 2, y: height - 6, 'text-anchor': 'middle' },
      `${capitalised(noun)} of publication`),
    s('text', {
      class: 'axis-title', transform: 'rotate(-90)', x: -(margin.top + plotHeight / 2), y: 12, 'text-anchor': 'middle',
    }, `Releases per ${noun}`),
  ];

  const total = totals.reduce((a, b) => a + b, 0);
  const description = `Bar chart of ${releases(total)} per ${noun}, from ${periods[0].long} to ${periods.at(-1).long}, `
    + `at most ${Math.max(...totals)} in a ${noun}`
    + `${series.length > 1 ? `; ${series.map((one, k) => `${one.label}: ${sumOf(byPeriod, k)}`).join(', ')}` : ''}. `
    + `Each bar is a button that lists only the releases of its ${noun}; the arrow keys move between the bars.`;
  const svg = s('svg', {
    class: 'chart', width, height, viewBox: `0 0 ${width} ${height}`, role: 'group',
    'aria-label': description, dataset: { granularity: kind, first: periods[0].key, last: periods.at(-1).key },
  }, grid, axis.slice(0, 1), bars, axis.slice(1));

  const periodOf = new Map(periods.map((p) => [p.key, p]));
  svg.addEventListener('click', (event) => {
    const bar = event.target.closest('.bar');
    if (bar) onChoose(periodOf.get(bar.dataset.period));
  });
  svg.addEventListener('keydown', (event) => {
    const bar = event.target.closest('.bar');
    if (!bar) return;
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      onChoose(periodOf.get(bar.dataset.period));
      return;
    }
    const all = [...svg.querySelectorAll('.bar')];
    const at = all.indexOf(bar);
    const next = {
      ArrowRight: all[at + 1], ArrowDown: all[at + 1], ArrowLeft: all[at - 1], ArrowUp: all[at - 1],
      Home: all[0], End: all.at(-1),
    }[event.key];
    if (!next) return;
    event.preventDefault();
    bar.setAttribute('tabindex', '-1');
    next.setAttribute('tabindex', '0');
    next.focus();
  });

  return { svg, table: countsTable(series, periods, byPeriod, totals), kind };
}

/** The chart's numbers for keyboards and screen readers: a folded table of every bar. */
function countsTable(series, periods, byPeriod, totals) {
  const several = series.length > 1;
  const noun = periods[0].kind;
  const rows = periods.map((p, i) => totals[i] > 0 && h('tr', {},
    h('th', { scope: 'row' }, p.long),
    several ? series.map((_, k) => h('td', {}, byPeriod[i][k])) : null,
    h('td', {}, totals[i])));
  return h('details', { class: 'chart-table' },
    h('summary', {}, 'The counts as a table'),
    // A long or wide table scrolls in its box, which therefore takes the focus: the keyboard
    // scrolls it too.
    h('div', { class: 'table-box', tabindex: '0', role: 'region', 'aria-labelledby': 'chart-table-caption' },
      h('table', {},
        h('caption', { id: 'chart-table-caption' }, `Releases per ${noun}, in numbers`),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, capitalised(noun)),
          several ? series.map((one) => h('th', { scope: 'col' }, seriesLabel(one))) : null,
          h('th', { scope: 'col' }, several ? 'All' : 'Releases'))),
        h('tbody', {}, rows))));
}

/** The chart's legend: a swatch, the series' label and its total. */
export function legend(series) {
  return h('ul', { class: 'legend', 'aria-label': 'Legend' }, series.map((one) => {
    const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
    swatch.style.backgroundColor = one.color; // through CSSOM: the page's CSP forbids style attributes
    const total = one.counts.reduce((a, c) => a + c.count, 0);
    return h('li', { dataset: { series: one.key } }, swatch, seriesLabel(one), ' ', h('span', { class: 'total' }, `(${total})`));
  }));
}

/** A series' short label, its full name in an abbreviation's title when it is an acronym. */
function seriesLabel(one) {
  return one.label !== one.name ? h('abbr', { title: one.name }, one.label) : one.label;
}

function releases(count) {
  return `${count} ${count === 1 ? 'release' : 'releases'}`;
}

function capitalised(word) {
  return word[0].toUpperCase() + word.slice(1);
}

function sumOf(byPeriod, k) {
  return byPeriod.reduce((sum, values) => sum + values[k], 0);
}

/** Round steps for the count axis, from 0 up to at least `max`, about five of them. */
function countTicks(max) {
  const rough = Math.max(max, 1) / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= rough));
  const ticks = [];
  for (let tick = 0; tick < max || ticks.length < 2; tick += step) ticks.push(tick);
  if (ticks.at(-1) < max) ticks.push(ticks.at(-1) + step);
  return ticks;
}

/**
 * Labels for the time axis, far enough apart to be read: months (with the year on January and
 * on the first label) over short ranges of months, otherwise every year or every few years.
 */
function timeLabels(periods, band) {
  const labels = [];
  if (periods[0].kind === 'month' && periods.length <= 24) {
    const step = [1, 2, 3, 6, 12].find((candidate) => candidate * band >= 64) ?? 12;
    for (let i = 0; i < periods.length; i += step) {
      const p = periods[i];
      labels.push({ i, anchor: 'middle', text: i === 0 || p.month === 1 ? `${p.short} ${p.year}` : p.short });
    }
    return labels;
  }
  if (periods[0].kind === 'year') {
    const step = [1, 2, 5, 10, 20, 50].find((candidate) => candidate * band >= 40) ?? 100;
    periods.forEach((p, i) => {
      if (p.year % step === 0 || step === 1) labels.push({ i, anchor: 'middle', text: p.short });
    });
    return labels;
  }
  const perYear = periods[0].kind === 'month' ? 12 : 4;
  const step = [1, 2, 5, 10, 20, 50].find((candidate) => candidate * perYear * band >= 40) ?? 100;
  const firstOfYear = (p) => monthOf(p.start) === 0;
  // A range starting mid-year names its first year too, when that leaves room before January.
  const head = periods.findIndex(firstOfYear);
  if (head !== 0 && (head === -1 ? periods.length : head) * band >= 40) {
    labels.push({ i: 0, anchor: 'start', text: String(periods[0].year) });
  }
  periods.forEach((p, i) => {
    // Label each year at its start, unless that leaves less than half a label of room.
    if (firstOfYear(p) && p.year % step === 0 && (periods.length - i) * band >= 20) {
      labels.push({ i, anchor: 'start', text: String(p.year) });
    }
  });
  return labels;
}
