// The schema the server serves, compared with the published schema.graphql by GraphQL Inspector.
//
//   node clients/schema-diff.mjs <base_url> [--schema FILE] [--changelog FILE]
//
// Lists breaking, dangerous and safe changes. Breaking changes pass only when the changelog's
// `## Unreleased` section has a `### Breaking` part naming each one's path (e.g. `Release.title`),
// so no client is broken by a release that does not say so. Exits 1 otherwise.

import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CriticalityLevel, diff } from '@graphql-inspector/core';
import { buildClientSchema, buildSchema, getIntrospectionQuery } from 'graphql';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

let args;
try {
  args = parseArgs({
    allowPositionals: true,
    options: {
      schema: { type: 'string', default: resolve(repo, 'schema.graphql') },
      changelog: { type: 'string', default: resolve(repo, 'CHANGELOG.md') },
    },
  });
} catch (error) {
  console.error(`${error.message}\nusage: node schema-diff.mjs <base_url> [--schema FILE] [--changelog FILE]`);
  process.exit(2);
}
if (args.positionals.length !== 1) {
  console.error('usage: node schema-diff.mjs <base_url> [--schema FILE] [--changelog FILE]');
  process.exit(2);
}
const url = `${args.positionals[0].replace(/\/+$/, '')}/graphql`;
const { schema: schemaFile, changelog: changelogFile } = args.values;

async function fail(message) {
  console.error(message);
  process.exit(1);
}

/** The schema as the server describes itself through introspection. */
async function servedSchema() {
  let response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query: getIntrospectionQuery({ descriptions: true, specifiedByUrl: true }) }),
    });
  } catch (error) {
    return fail(`cannot reach ${url}: ${error.cause?.message ?? error.message}`);
  }
  const body = await response.json().catch(() => null);
  if (!response.ok || !body?.data || body.errors) {
    return fail(`introspection of ${url} answered ${response.status}: ${JSON.stringify(body)}`);
  }
  return buildClientSchema(body.data);
}

/**
 * The `### Breaking` part of `## Unreleased`, or null when there is none. Headings are matched
 * case-insensitively; the part ends at the next heading of level 2 or 3.
 */
function unreleasedBreaking(markdown) {
  const lines = markdown.split(/\r?\n/);
  const start = lines.findIndex((line) => /^##\s+\[?unreleased\]?\s*$/i.test(line));
  if (start < 0) {
    return null;
  }
  const end = lines.findIndex((line, index) => index > start && /^##\s/.test(line));
  const section = lines.slice(start + 1, end < 0 ? undefined : end);
  const breaking = section.findIndex((line) => /^###\s+breaking\b/i.test(line));
  if (breaking < 0) {
    return null;
  }
  const after = section.findIndex((line, index) => index > breaking && /^###?\s/.test(line));
  return section.slice(breaking + 1, after < 0 ? undefined : after).join('\n');
}

/** Whether `text` names `path` as a whole: `Release.title` is not named by `Release.titles`. */
function names(text, path) {
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\w.])${escaped}(?![\\w]|\\.\\w)`).test(text);
}

let oldSdl;
try {
  oldSdl = await readFile(schemaFile, 'utf8');
} catch (error) {
  await fail(`cannot read the published schema ${schemaFile}: ${error.message}`);
}
let oldSchema;
try {
  oldSchema = buildSchema(oldSdl);
} catch (error) {
  await fail(`${schemaFile} is not a valid schema: ${error.message}`);
}
const newSchema = await servedSchema();
const changes = await diff(oldSchema, newSchema);

const byLevel = (level) => changes.filter((change) => change.criticality.level === level);
const breaking = byLevel(CriticalityLevel.Breaking);
const dangerous = byLevel(CriticalityLevel.Dangerous);
const safe = byLevel(CriticalityLevel.NonBreaking);
const pathOf = (change) => change.path ?? change.message;

console.log(`schema diff: ${schemaFile} (published) -> ${url} (served)\n`);
for (const [title, list] of [
  ['breaking', breaking],
  ['dangerous', dangerous],
  ['safe', safe],
]) {
  console.log(`${title}: ${list.length}`);
  for (const change of list) {
    const reason = change.criticality.reason ? ` (${change.criticality.reason})` : '';
    console.log(`  ${pathOf(change)}: ${change.message}${title === 'safe' ? '' : reason}`);
  }
}

if (breaking.length === 0) {
  console.log('\nno breaking change');
  process.exit(0);
}

let changelog = '';
try {
  changelog = await readFile(changelogFile, 'utf8');
} catch (error) {
  console.error(`cannot read ${changelogFile}: ${error.message}`);
}
const announced = unreleasedBreaking(changelog);
const unannounced = breaking.filter((change) => announced === null || !names(announced, pathOf(change)));
if (unannounced.length > 0) {
  console.error(
    `\n${unannounced.length} breaking change(s) not announced under "## Unreleased" / "### Breaking" in ${changelogFile}:`,
  );
  for (const change of unannounced) {
    console.error(`  ${pathOf(change)}: ${change.message}`);
  }
  console.error('name each path there (e.g. `Release.title`) with what clients must change, or undo the change');
  process.exit(1);
}
console.log(`\nevery breaking change is announced under "### Breaking" in ${changelogFile}`);
