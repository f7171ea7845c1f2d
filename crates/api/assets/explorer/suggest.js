/**
 * The search box's suggestions, as an ARIA 1.2 combobox: while the user types, a list box under
 * the box offers the completions of the word being typed (`searchSuggestions`), each with how
 * many releases the completed search finds under the other filters. Down and Up move through
 * them (announced through `aria-activedescendant`), Enter or a click chooses one, Escape or
 * leaving the box closes the list; the box itself keeps the focus throughout.
 */

import { graphql } from './api.js';
import { h, replace } from './dom.js';

export const SUGGESTIONS = `query Suggestions($text: String!, $filter: ReleaseFilter) {
  searchSuggestions(text: $text, filter: $filter, first: 6) { words { word text count } }
}`;

const DELAY_MS = 120;

/**
 * Makes `input` a combobox. `filter()` gives the other filters (without the search);
 * `choose(text)` runs when a suggestion is chosen, after the box shows its text.
 */
export function offerSuggestions(input, { filter, choose }) {
  const list = h('ul', { id: `${input.id}-suggestions`, role: 'listbox', class: 'suggestions', 'aria-label': 'Suggestions', hidden: true });
  input.after(list);
  input.parentElement?.classList.add('has-suggestions');
  input.setAttribute('role', 'combobox');
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-controls', list.id);
  input.setAttribute('aria-expanded', 'false');

  let words = [];
  let active = -1;
  let asked = 0;
  let timer = null;

  const close = () => {
    words = [];
    active = -1;
    list.hidden = true;
    replace(list);
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
  };
  const highlight = (index) => {
    active = index;
    list.querySelectorAll('[role="option"]').forEach((option, i) => option.setAttribute('aria-selected', String(i === index)));
    if (index >= 0) input.setAttribute('aria-activedescendant', `${list.id}-${index}`);
    else input.removeAttribute('aria-activedescendant');
  };
  const pick = (index) => {
    const word = words[index];
    if (!word) return;
    input.value = word.text;
    close();
    choose(word.text);
  };
  const show = (found) => {
    words = found;
    if (!words.length) return close();
    replace(list, words.map((word, index) => h('li', {
      id: `${list.id}-${index}`,
      role: 'option',
      'aria-selected': 'false',
      // Pressing the option would take the focus from the box before the click lands.
      onMousedown: (event) => event.preventDefault(),
      onClick: () => pick(index),
    }, h('span', { class: 'suggestion-text' }, word.text), ' ',
    h('span', { class: 'suggestion-count' }, `${word.count} ${word.count === 1 ? 'release' : 'releases'}`))));
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    highlight(-1);
  };
  const ask = async () => {
    const text = input.value;
    const mine = ++asked;
    if (!text.trim()) return close();
    try {
      const { searchSuggestions } = await graphql(SUGGESTIONS, { text, filter: filter() });
      // A newer keystroke asked again meanwhile: its answer wins.
      if (mine === asked && document.activeElement === input) show(searchSuggestions.words);
    } catch {
      // Suggestions are a convenience: the search itself reports what went wrong.
      if (mine === asked) close();
    }
  };

  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(ask, DELAY_MS);
  });
  input.addEventListener('keydown', (event) => {
    if (list.hidden) return;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      // From the box (-1) through the options and back to the box.
      const last = words.length - 1;
      if (event.key === 'ArrowDown') highlight(active >= last ? -1 : active + 1);
      else highlight(active <= -1 ? last : active - 1);
    } else if (event.key === 'Enter' && active >= 0) {
      event.preventDefault();
      pick(active);
    } else if (event.key === 'Escape') {
      event.preventDefault();
      close();
    }
  });
  input.addEventListener('blur', () => {
    clearTimeout(timer);
    asked += 1;
    close();
  });
}
