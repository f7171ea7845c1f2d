// Apollo Client (core, no React) against a live server, as a web frontend would use it: a
// normalised InMemoryCache with Relay-style pagination for `Query.releases`.
//
//   node clients/apollo.mjs <base_url>
//
// Checks that paging with fetchMore walks a programme's releases without gaps or duplicates, that
// a month filter keeps to its month, and that the cache keeps one entry per release (by `id`), so
// what one query fetched is served to another without a request. Exits 1 on the first mismatch.

import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';

const base = process.argv[2];
if (!base) {
  console.error('usage: node apollo.mjs <base_url>');
  process.exit(2);
}
const url = `${base.replace(/\/+$/, '')}/graphql`;

/** Small pages, so that every programme in the seeds spans several of them. */
const PAGE = 3;
const PROGRAMME = 'score';

class CheckFailed extends Error {}

function check(condition, message) {
  if (!condition) {
    throw new CheckFailed(message);
  }
}

const checked = [];
function passed(line) {
  checked.push(line);
  console.log(`ok  ${line}`);
}

// Every request Apollo sends goes through here, so the cache checks can tell a cache hit from a
// request.
let requests = 0;
async function countingFetch(input, init) {
  requests += 1;
  return fetch(input, init);
}

/** A plain POST, bypassing Apollo: what the server says, to compare Apollo's view with. */
async function direct(query, variables = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  check(response.ok && !body.errors, `direct query answered ${response.status}: ${JSON.stringify(body)}`);
  return body.data;
}

const client = new ApolloClient({
  link: new HttpLink({ uri: url, fetch: countingFetch }),
  cache: new InMemoryCache({
    typePolicies: {
      Query: {
        fields: {
          releases: relayStylePagination(['filter', 'orderBy']),
        },
      },
    },
  }),
});

const RELEASES = gql`
  query Releases($filter: ReleaseFilter, $first: Int, $after: String) {
    releases(filter: $filter, first: $first, after: $after) {
      totalCount
      edges {
        cursor
        node {
          id
          slug
          title
          publishedOn
          summary
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

/**
 * Every release matching `filter`, paged with `fetchMore` the way an infinite list does, and
 * read back from the cache where relayStylePagination merged the pages.
 */
async function pageThrough(filter) {
  const variables = { filter, first: PAGE };
  const observable = client.watchQuery({ query: RELEASES, variables });
  // The observable must be watched for fetchMore to merge into what it shows.
  const subscription = observable.subscribe({ error: () => {} });
  try {
    // Each step continues from the page it just received, as a "load more" button does.
    let page = (await observable.refetch()).data.releases;
    let pages = 1;
    while (page.pageInfo.hasNextPage) {
      check(pages < 100, `still paging after ${pages} pages of ${JSON.stringify(filter)}`);
      const { data } = await observable.fetchMore({ variables: { after: page.pageInfo.endCursor } });
      page = data.releases;
      pages += 1;
    }
    const merged = client.readQuery({ query: RELEASES, variables });
    check(merged, `the merged list of ${JSON.stringify(filter)} is not in the cache`);
    return { connection: merged.releases, pages };
  } finally {
    subscription.unsubscribe();
  }
}

// (a) A programme's releases, page by page, against one direct fetch of all of them.
async function checkProgrammePaging() {
  const { connection, pages } = await pageThrough({ programmes: [PROGRAMME] });
  const ids = connection.edges.map((edge) => edge.node.id);
  check(ids.length > PAGE, `programme ${PROGRAMME} has ${ids.length} releases: too few to page through`);
  const duplicates = ids.filter((id, index) => ids.indexOf(id) !== index);
  check(duplicates.length === 0, `paging repeated releases ${duplicates.join(', ')}`);
  check(
    ids.length === connection.totalCount,
    `paging gathered ${ids.length} releases but totalCount is ${connection.totalCount}`,
  );
  const server = await direct(
    `query($filter: ReleaseFilter) { releases(filter: $filter, first: 100) { totalCount nodes { id } } }`,
    { filter: { programmes: [PROGRAMME] } },
  );
  const serverIds = server.releases.nodes.map((node) => node.id);
  check(
    JSON.stringify(ids) === JSON.stringify(serverIds),
    `paged ids differ from the server's single page:\n  paged:  ${ids.join(' ')}\n  server: ${serverIds.join(' ')}`,
  );
  passed(
    `programme "${PROGRAMME}": ${ids.length} releases over ${pages} pages of ${PAGE} with fetchMore, ` +
      `no duplicates, totalCount ${connection.totalCount}, same ids and order as one direct fetch`,
  );
  return connection;
}

// (b) One month, the busiest in the archive, chosen from the server's own facets.
async function checkMonthFilter() {
  const facets = await direct(`{ releaseFacets { months { year month count } } }`);
  const months = facets.releaseFacets.months;
  check(months.length > 0, 'releaseFacets lists no month: is the archive empty?');
  const busiest = months.reduce((best, month) => (month.count > best.count ? month : best));
  const { year, month } = busiest;
  const { connection, pages } = await pageThrough({ year, month });
  const prefix = `${year}-${String(month).padStart(2, '0')}-`;
  const outside = connection.edges.filter((edge) => !edge.node.publishedOn.startsWith(prefix));
  check(
    outside.length === 0,
    `filter {year: ${year}, month: ${month}} returned releases of other months: ` +
      outside.map((edge) => `${edge.node.slug} (${edge.node.publishedOn})`).join(', '),
  );
  const count = connection.edges.length;
  check(count === connection.totalCount, `month ${prefix}: ${count} releases paged but totalCount is ${connection.totalCount}`);
  check(count === busiest.count, `month ${prefix}: ${count} releases paged but releaseFacets counts ${busiest.count}`);
  passed(
    `month ${year}-${String(month).padStart(2, '0')}: ${count} releases over ${pages} pages, all published that month, ` +
      `count equals totalCount and the releaseFacets count`,
  );
}

// (c) One release seen through `release(slug:)` and through the list is one cache entry.
async function checkNormalisation(list) {
  const { node: listed } = list.edges[list.edges.length - 1];
  const BY_SLUG = gql`
    query Release($slug: String!) {
      release(slug: $slug) {
        id
        slug
        title
      }
    }
  `;
  const before = requests;
  const { data } = await client.query({ query: BY_SLUG, variables: { slug: listed.slug } });
  check(requests === before + 1, `release(slug:) was expected to need one request, took ${requests - before}`);
  check(data.release?.id === listed.id, `release(slug: "${listed.slug}") has id ${data.release?.id}, the list says ${listed.id}`);

  const key = client.cache.identify({ __typename: 'Release', id: listed.id });
  check(key === `Release:${listed.id}`, `cache.identify gives ${key}, expected Release:${listed.id}`);
  const store = client.cache.extract();
  const entries = Object.entries(store).filter(
    ([, value]) => value && value.__typename === 'Release' && value.slug === listed.slug,
  );
  check(
    entries.length === 1 && entries[0][0] === key,
    `release ${listed.slug} is stored under ${entries.map(([k]) => k).join(', ') || 'no key'}, expected only ${key}`,
  );
  const root = store.ROOT_QUERY;
  const bySlugField = Object.keys(root).find((field) => field.startsWith('release(') && field.includes(listed.slug));
  check(bySlugField && root[bySlugField]?.__ref === key, `ROOT_QUERY.${bySlugField} is not a reference to ${key}`);
  const listFields = Object.keys(root).filter((field) => field.startsWith('releases'));
  const listRefs = listFields.flatMap((field) => root[field].edges.map((edge) => edge.node?.__ref));
  check(listRefs.includes(key), `no cached list refers to ${key}`);

  // `summary` was fetched by the list only; release(slug:) asking for it must be served from the
  // cache, cache-first, without a request.
  const WITH_SUMMARY = gql`
    query ReleaseWithSummary($slug: String!) {
      release(slug: $slug) {
        id
        title
        summary
        publishedOn
      }
    }
  `;
  const beforeCached = requests;
  const cached = await client.query({
    query: WITH_SUMMARY,
    variables: { slug: listed.slug },
    fetchPolicy: 'cache-first',
  });
  check(requests === beforeCached, `release(slug:) with the list's fields sent ${requests - beforeCached} request(s)`);
  check(
    cached.data.release.summary === listed.summary && cached.data.release.publishedOn === listed.publishedOn,
    `release(slug:) read summary/publishedOn ${JSON.stringify(cached.data.release)} from the cache, the list had ${JSON.stringify(listed)}`,
  );

  // A field nobody fetched does go to the network: the request count above means something.
  const WITH_CREDIT = gql`
    query ReleaseWithCredit($slug: String!) {
      release(slug: $slug) {
        id
        imageCredit
      }
    }
  `;
  const beforeCredit = requests;
  await client.query({ query: WITH_CREDIT, variables: { slug: listed.slug }, fetchPolicy: 'cache-first' });
  check(requests === beforeCredit + 1, `a field not in the cache took ${requests - beforeCredit} requests, expected 1`);

  // And what release(slug:) fetched is visible through the list's entry: they are one object.
  const fragment = client.cache.readFragment({
    id: key,
    fragment: gql`
      fragment Seen on Release {
        title
        summary
        imageCredit
      }
    `,
  });
  check(
    fragment && fragment.title === listed.title && 'imageCredit' in fragment,
    `the cache entry ${key} lacks fields of one of the queries: ${JSON.stringify(fragment)}`,
  );
  passed(
    `cache: release "${listed.slug}" is one entry ${key} shared by release(slug:) and the list; ` +
      `summary fetched by the list served to release(slug:) with 0 requests; an uncached field took 1`,
  );
}

try {
  const list = await checkProgrammePaging();
  await checkMonthFilter();
  await checkNormalisation(list);
  console.log(`\n${checked.length} Apollo Client checks passed, ${requests} requests sent by Apollo`);
} catch (error) {
  console.error(error instanceof CheckFailed ? `FAILED: ${error.message}` : error);
  process.exit(1);
} finally {
  client.stop();
}
