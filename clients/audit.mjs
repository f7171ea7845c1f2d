// The GraphQL-over-HTTP conformance audit of `graphql-http`, run against a live server.
//
//   node clients/audit.mjs <base_url>
//
// Every audit runs; the table shows each one's id, level, result and reason. Exits 1 when a MUST
// fails, when a SHOULD fails without an entry in audit-exceptions.json ({id, reason} objects), or
// when an exception names an audit that now passes (so the list never outlives its reason).

import { readFile } from 'node:fs/promises';
import { serverAudits } from 'graphql-http';

const base = process.argv[2];
if (!base) {
  console.error('usage: node audit.mjs <base_url>');
  process.exit(2);
}
const url = `${base.replace(/\/+$/, '')}/graphql`;

const exceptionsFile = new URL('./audit-exceptions.json', import.meta.url);
let exceptions;
try {
  exceptions = JSON.parse(await readFile(exceptionsFile, 'utf8'));
} catch (error) {
  console.error(`cannot read ${exceptionsFile.pathname}: ${error.message}`);
  process.exit(2);
}
if (!Array.isArray(exceptions) || exceptions.some((e) => typeof e?.id !== 'string' || typeof e?.reason !== 'string' || !e.reason.trim())) {
  console.error(`${exceptionsFile.pathname} must be a list of {"id": "...", "reason": "..."} with a non-empty reason`);
  process.exit(2);
}
const excepted = new Map(exceptions.map((e) => [e.id, e.reason]));

const rows = [];
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  const level = audit.name.split(' ', 1)[0];
  let result;
  try {
    result = await audit.fn();
  } catch (error) {
    // The audit could not even run (connection refused, unreadable body): a failure at its level.
    result = { status: 'error', reason: `audit aborted: ${error?.message ?? error}` };
  }
  const passed = result.status === 'ok';
  let verdict;
  if (passed) {
    verdict = excepted.has(audit.id) ? 'STALE' : 'ok';
  } else if (level === 'MUST') {
    verdict = 'FAIL';
  } else if (level === 'SHOULD') {
    verdict = excepted.has(audit.id) ? 'excepted' : 'FAIL';
  } else {
    verdict = 'notice';
  }
  const message = passed
    ? verdict === 'STALE'
      ? 'passes now: remove it from audit-exceptions.json'
      : ''
    : `${result.reason}${verdict === 'excepted' ? ` (excepted: ${excepted.get(audit.id)})` : ''}`;
  rows.push({ id: audit.id, level, verdict, name: audit.name.slice(level.length + 1), message, response: result.response });
}

const unknown = [...excepted.keys()].filter((id) => !rows.some((row) => row.id === id));

const oneLine = (text) => text.replace(/\s+/g, ' ').trim();
console.log(`GraphQL-over-HTTP audit of ${url}\n`);
console.log(`${'id'.padEnd(4)}  ${'level'.padEnd(6)}  ${'result'.padEnd(8)}  audit / message`);
for (const row of rows) {
  console.log(`${row.id.padEnd(4)}  ${row.level.padEnd(6)}  ${row.verdict.padEnd(8)}  ${row.name}`);
  if (row.message) {
    console.log(`${' '.repeat(26)}-> ${oneLine(row.message)}`);
  }
}

const count = (predicate) => rows.filter(predicate).length;
console.log('');
for (const level of ['MUST', 'SHOULD', 'MAY']) {
  const ofLevel = rows.filter((row) => row.level === level);
  const passed = ofLevel.filter((row) => row.verdict === 'ok' || row.verdict === 'STALE').length;
  console.log(`${level.padEnd(6)}  ${passed}/${ofLevel.length} pass`);
}
const failures = rows.filter((row) => row.verdict === 'FAIL');
const stale = rows.filter((row) => row.verdict === 'STALE');
console.log(
  `total   ${count((row) => row.verdict === 'ok' || row.verdict === 'STALE')}/${rows.length} pass, ` +
    `${failures.length} failing, ${count((row) => row.verdict === 'excepted')} excepted, ` +
    `${count((row) => row.verdict === 'notice')} MAY notices, ${stale.length} stale exceptions`,
);

const problems = [
  ...failures.map((row) => `${row.level} ${row.id} fails: ${row.name}: ${oneLine(row.message)}`),
  ...stale.map((row) => `exception ${row.id} is stale: the audit passes now, remove it from audit-exceptions.json`),
  ...unknown.map((id) => `exception ${id} names no audit of this graphql-http version`),
];
if (problems.length > 0) {
  console.error(`\n${problems.length} problem(s):`);
  for (const problem of problems) {
    console.error(`  ${problem}`);
  }
  process.exit(1);
}
console.log('\nconformant: every MUST passes, every failing SHOULD has a recorded reason');
