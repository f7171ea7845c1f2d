/**
 * A release's page, served by the server at `/releases/<slug>`, works without this script; with
 * it, the page's back link returns to the very list the reader came from (its filters, order and
 * page), which the explorer keeps in the session as the reader browses.
 */

const LAST_LIST_KEY = 'explorer:last-list';

const back = document.querySelector('a.back');
let hash = null;
try {
  hash = window.sessionStorage.getItem(LAST_LIST_KEY);
} catch {
  // Storage refused: the link keeps leading to the explorer's first view.
}
// Only a list view of the explorer, never whatever else might have been stored under the key.
if (back && hash && /^#\/(\?.*)?$/.test(hash)) back.href = `/${hash}`;
