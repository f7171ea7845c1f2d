/**
 * Small DOM helpers for the explorer. Elements are built node by node, so text from the API is
 * always inserted as text and never parsed as HTML.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Appends `children` to `element`: strings and numbers as text, null/false/undefined skipped,
 * arrays flattened.
 */
function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/**
 * Sets attributes; `on<Event>` functions become listeners and `dataset` an object of data-*.
 * A null or false attribute is left out.
 */
function setAttributes(element, attributes) {
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === 'dataset') {
      Object.assign(element.dataset, value);
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  return element;
}

/** An HTML element: `h('a', { href: '#/' }, 'Home')`. */
export function h(tag, attributes, ...children) {
  return append(setAttributes(document.createElement(tag), attributes), children);
}

/** An SVG element, as `h` does for HTML. */
export function s(tag, attributes, ...children) {
  return append(setAttributes(document.createElementNS(SVG_NS, tag), attributes), children);
}

/** Replaces the children of `element` with `children`. */
export function replace(element, ...children) {
  element.replaceChildren();
  return append(element, children);
}

/** `document.querySelector`, failing loudly when the page lacks the element. */
export function $(selector) {
  const element = document.querySelector(selector);
  if (!element) throw new Error(`the page has no ${selector}`);
  return element;
}

const LONG_DATE = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeZone: 'UTC' });

/** "2021-06-24" as "24 June 2021". */
export function formatDate(isoDate) {
  return LONG_DATE.format(new Date(`${isoDate}T00:00:00Z`));
}
