/**
 * The timeline: releases per month as stacked bars, one colour per series (programme), drawn as
 * plain SVG at the container's pixel width so that text keeps its size on any screen.
 * Each bar segment carries data-series, data-month and data-count for tests and tools.
 */

import { h, s } from './dom.js';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
  'September', 'October', 'November', 'December'];

const MARGIN = { top: 12, right: 12, bottom: 48, left: 48 };

/** Months as consecutive integers, so that gaps between them are easy to fill. */
const monthIndex = (year, month) => year * 12 + (month - 1);
const yearOf = (index) => Math.floor(index / 12);
const monthOf = (index) => index % 12;
const monthName = (index) => `${MONTHS[monthOf(index)]} ${yearOf(index)}`;

/**
 * The chart of `series` ([{ key, label, name, color, counts: [{ year, month, count }] }]), drawn
 * `width` pixels wide; null when no series has any release.
 */
export function stackedMonthChart(series, width) {
  const counts = series.map((one) => new Map(one.counts.map((c) => [monthIndex(c.year, c.month), c.count])));
  const indices = counts.flatMap((byMonth) => [...byMonth.keys()]);
  if (!indices.length) return null;
  const first = Math.min(...indices);
  const months = Math.max(...indices) - first + 1;
  const totals = Array.from({ length: months }, (_, i) =>
    counts.reduce((sum, byMonth) => sum + (byMonth.get(first + i) ?? 0), 0));

  const height = width < 500 ? 200 : 240;
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = height - MARGIN.top - MARGIN.bottom;
  const ticks = countTicks(Math.max(...totals));
  const top = ticks.at(-1);
  const band = plotWidth / months;
  // Gaps between bars only while bars are wide enough to spare them; few months make no slabs.
  const gap = band >= 4 ? Math.min(band * 0.2, 4) : 0;
  const barWidth = Math.max(Math.min(band - gap, 40), 0.5);
  const x = (i) => MARGIN.left + i * band;
  const y = (count) => MARGIN.top + plotHeight - (count / top) * plotHeight;

  const grid = ticks.map((tick) => s('g', { class: 'tick' },
    s('line', { x1: MARGIN.left, x2: width - MARGIN.right, y1: y(tick), y2: y(tick) }),
    s('text', { x: MARGIN.left - 6, y: y(tick), 'text-anchor': 'end', 'dominant-baseline': 'middle' }, tick)));

  const segments = [];
  for (let i = 0; i < months; i += 1) {
    let below = 0;
    series.forEach((one, k) => {
      const count = counts[k].get(first + i);
      if (!count) return;
      segments.push(s('rect', {
        class: 'segment',
        x: x(i) + (band - barWidth) / 2,
        y: y(below + count),
        width: barWidth,
        height: y(below) - y(below + count),
        fill: one.color,
        dataset: { series: one.key, month: `${yearOf(first + i)}-${String(monthOf(first + i) + 1).padStart(2, '0')}`, count },
      }, s('title', {}, `${one.label}: ${count} ${count === 1 ? 'release' : 'releases'} in ${monthName(first + i)}`)));
      below += count;
    });
  }

  const axis = [
    s('line', { class: 'axis', x1: MARGIN.left, x2: width - MARGIN.right, y1: y(0), y2: y(0) }),
    ...monthLabels(first, months, band).map(({ i, text, anchor }) => s('g', { class: 'tick' },
      s('line', { x1: x(i), x2: x(i), y1: y(0), y2: y(0) + 4 }),
      s('text', { x: anchor === 'middle' ? x(i) + band / 2 : x(i) + 3, y: y(0) + 16, 'text-anchor': anchor }, text))),
    s('text', { class: 'axis-title', x: MARGIN.left + plotWidth / 2, y: height - 6, 'text-anchor': 'middle' },
      'Month of publication'),
    s('text', {
      class: 'axis-title', transform: `rotate(-90)`, x: -(MARGIN.top + plotHeight / 2), y: 12, 'text-anchor': 'middle',
    }, 'Releases per month'),
  ];

  const total = totals.reduce((a, b) => a + b, 0);
  const description = `${series.map((one, k) => `${one.label}: ${sum(counts[k])}`).join(', ')}; `
    + `from ${monthName(first)} to ${monthName(first + months - 1)}, at most ${Math.max(...totals)} in a month.`;
  return s('svg', {
    class: 'chart', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-label': `Bar chart of ${total} releases per month. ${description}`,
  }, grid, segments, axis);
}

/** The chart's legend: a swatch, the series' label and its total. */
export function legend(series) {
  return h('ul', { class: 'legend', 'aria-label': 'Legend' }, series.map((one) => {
    const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
    swatch.style.backgroundColor = one.color; // through CSSOM: the page's CSP forbids style attributes
    const total = one.counts.reduce((a, c) => a + c.count, 0);
    return h('li', { title: one.name, dataset: { series: one.key } }, swatch, `${one.label} `, h('span', { class: 'total' }, `(${total})`));
  }));
}

function sum(byMonth) {
  let total = 0;
  for (const count of byMonth.values()) total += count;
  return total;
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
 * on the first label) over short ranges, otherwise every year or every few years.
 */
function monthLabels(first, months, band) {
  const labels = [];
  if (months <= 24) {
    const step = [1, 2, 3, 6, 12].find((candidate) => candidate * band >= 64) ?? 12;
    for (let i = 0; i < months; i += step) {
      const index = first + i;
      const short = MONTHS[monthOf(index)].slice(0, 3);
      labels.push({ i, anchor: 'middle', text: i === 0 || monthOf(index) === 0 ? `${short} ${yearOf(index)}` : short });
    }
    return labels;
  }
  const step = [1, 2, 5, 10, 20, 50].find((candidate) => candidate * 12 * band >= 40) ?? 100;
  // A range starting mid-year names its first year too, when that leaves room before January.
  if (monthOf(first) !== 0 && (12 - monthOf(first)) * band >= 40) {
    labels.push({ i: 0, anchor: 'start', text: String(yearOf(first)) });
  }
  for (let i = 0; i < months; i += 1) {
    const index = first + i;
    // Label each year at its January, unless that leaves less than half a label of room.
    if (monthOf(index) === 0 && yearOf(index) % step === 0 && x0Fits(i, months, band)) {
      labels.push({ i, anchor: 'start', text: String(yearOf(index)) });
    }
  }
  return labels;
}

function x0Fits(i, months, band) {
  return (months - i) * band >= 20;
}
