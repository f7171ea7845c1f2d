// Reads the server's feeds with @extractus/feed-extractor, as a JavaScript feed reader would:
//   node feeds.mjs BASE_URL EXPECTED.json
// EXPECTED.json is the one clients/feeds.py reads ("feeds": path and entries with title and
// link). Each feed must be fetched and parsed without an error and list exactly the expected
// entries, in order. Prints one line per feed; exits 1 on the first failure. An Atom feed without
// entries is skipped: feed-extractor only recognises Atom by an <entry> (its `isAtom`), though
// RFC 4287 allows none (feeds.py reads that one).

import { readFile } from 'node:fs/promises';
import { extract } from '@extractus/feed-extractor';

const [base, expectedPath] = process.argv.slice(2);
if (!base || !expectedPath) {
  console.log('FAIL usage: node feeds.mjs BASE_URL EXPECTED.json');
  process.exit(1);
}
const expected = JSON.parse(await readFile(expectedPath, 'utf8'));

let read = 0;
for (const feed of expected.feeds) {
  if (feed.version === 'atom10' && feed.entries.length === 0) {
    console.log(`skip ${feed.path}: an Atom feed without entries, which feed-extractor cannot tell`);
    continue;
  }
  let parsed;
  try {
    // No truncation of descriptions, no date rewriting: only what the feed says.
    parsed = await extract(base.replace(/\/$/, '') + feed.path, { descriptionMaxLen: 0 });
  } catch (error) {
    console.log(`FAIL ${feed.path}: feed-extractor could not read it: ${error.message}`);
    process.exit(1);
  }
  const seen = (parsed.entries ?? []).map((entry) => [entry.title, entry.link]);
  const wanted = feed.entries.map((entry) => [entry.title, entry.link]);
  if (JSON.stringify(seen) !== JSON.stringify(wanted)) {
    console.log(`FAIL ${feed.path}: feed-extractor saw ${JSON.stringify(seen).slice(0, 2000)}`);
    console.log(`expected ${JSON.stringify(wanted).slice(0, 2000)}`);
    process.exit(1);
  }
  console.log(`ok   ${feed.path}: "${parsed.title}", ${seen.length} entries as the API lists them`);
  read += 1;
}
console.log(`${read} feeds read by feed-extractor`);
