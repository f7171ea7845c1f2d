/**
 * Progressive enhancement of the server's pages (a release, a programme, an office): the page
 * is complete without it. With it, "All releases" returns to the very list the reader came from
 * in the explorer (its filters and page), which the explorer keeps in sessionStorage.
 */

const LAST_LIST_KEY = 'explorer:last-list';

const back = document.querySelector('a.back');
let lastList = null;
try {
  lastList = window.sessionStorage.getItem(LAST_LIST_KEY);
} catch {
  // Storage can be refused (privacy settings): the link then keeps its plain address.
}
if (back && lastList && lastList.startsWith('#/')) {
  back.href = `/${lastList}`;
  back.textContent = '← Back to the releases';
}
