/**
 * The releases published, while the list is open, that match its filter: one subscription
 * (`releaseEvents`, kinds PUBLISHED) over Server-Sent Events, counted by release so that the
 * page can say "3 new releases — show them". It knows no DOM: the page is told the count.
 *
 * A stream that ends or breaks (the network, a server restarting, a client cut off for reading
 * too slowly) is opened again with `after` set to the cursor of the last event received, so
 * nothing published in between is missed and nothing is counted twice; the delays between
 * attempts double from one second up to a minute, and start again from one second once a stream
 * has carried an event or lasted half a minute. A server on the SQLite archive refuses
 * subscriptions (SUBSCRIPTIONS_UNAVAILABLE): the page then stops asking, for every filter,
 * and simply shows no count. The stream stays open while the page is hidden, so the count is
 * right when the reader comes back.
 */

import { ApiError, NEW_RELEASES, subscribe } from './api.js';

const FIRST_DELAY_MS = 1_000;
const MAX_DELAY_MS = 60_000;
/** A stream that lasted this long worked: the next attempt after it starts with the first delay. */
const STEADY_MS = 30_000;

/** Set once the server says it has no live updates (SQLite): no stream is opened again. */
let unavailable = false;

/**
 * Follows the releases published from now on that match `filter` (a `ReleaseFilter`), calling
 * `onCount(n)` whenever the number of them not yet shown changes. Returns
 *   stop(): ends the subscription (the filters changed, or the page leaves the list);
 *   seen(ids): these releases (ids of `releases` nodes) are on screen, so no longer new;
 *   clear(): the reader asked to see them: none is new any more.
 */
export function followNewReleases(filter, onCount) {
  const pending = new Set();
  const controller = new AbortController();
  let after = null;
  let failures = 0;
  let timer = null;
  let stopped = false;

  // When the current stream was opened, and whether it has carried an event.
  const opened = { at: 0, heard: false };

  const onResult = (result) => {
    const event = result.data?.releaseEvents;
    if (result.errors?.length || !event) {
      // A refusal (SQLite, a cursor or filter refused) or a client cut off (SLOW_CONSUMER).
      const code = result.errors?.[0]?.extensions?.code ?? null;
      throw new ApiError(result.errors?.[0]?.message ?? 'a result without an event', { kind: 'refused', code });
    }
    after = event.cursor;
    opened.heard = true;
    if (event.kind === 'PUBLISHED' && !pending.has(event.releaseId)) {
      pending.add(event.releaseId);
      onCount(pending.size);
    }
  };

  async function open() {
    timer = null;
    if (stopped || unavailable) return;
    opened.at = Date.now();
    opened.heard = false;
    try {
      await subscribe(NEW_RELEASES, { filter, after }, { signal: controller.signal, onResult });
      // Completed by the server (it is stopping, or cut this client off): resume below.
    } catch (error) {
      if (stopped) return;
      if (error.code === 'SUBSCRIPTIONS_UNAVAILABLE') {
        unavailable = true;
        return;
      }
      if (error.code === 'BAD_USER_INPUT') {
        // Without `after`, the filter itself is refused: the list says why, in words.
        if (after === null) return;
        // The archive no longer knows the cursor (it was rebuilt): follow it from now on.
        after = null;
      }
    }
    if (stopped) return;
    if (opened.heard || Date.now() - opened.at >= STEADY_MS) failures = 0;
    const delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** failures);
    failures += 1;
    // Spread out, so that the pages of a restarted server do not all come back at once.
    timer = setTimeout(open, delay * (0.75 + Math.random() / 2));
  }

  open();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      controller.abort();
    },
    seen(ids) {
      let changed = false;
      for (const id of ids) changed = pending.delete(id) || changed;
      if (changed) onCount(pending.size);
    },
    clear() {
      if (pending.size === 0) return;
      pending.clear();
      onCount(0);
    },
  };
}
