/**
 * The explorer's only link to the server: the public GraphQL API (POST /graphql, JSON), through
 * the same queries any other client would send.
 */

const ENDPOINT = '/graphql';

/** A request the API refused or could not answer; `message` is fit to show the user. */
export class ApiError extends Error {}

/** `data` of `query` run with `variables`; throws ApiError on any GraphQL or HTTP error. */
export async function graphql(query, variables = {}) {
  let response;
  try {
    response = await fetch(ENDPOINT, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json;q=0.9',
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError('The server cannot be reached. Check the connection and try again.');
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`The server answered ${response.status} ${response.statusText} without a GraphQL response.`);
  }
  if (body.errors?.length) {
    throw new ApiError(body.errors.map((error) => error.message).join('\n'));
  }
  if (!response.ok || !body.data) {
    throw new ApiError(`The server answered ${response.status} ${response.statusText}.`);
  }
  return body.data;
}

/** The programmes and offices the filters offer. */
export const CATALOGUE = `query Catalogue {
  programmes { slug name acronym }
  offices { slug name }
}`;

/**
 * How many programme series one request asks for: the server refuses documents with more than
 * 15 aliases by default (MAX_ALIASES), and the facets take one more.
 */
export const SERIES_PER_REQUEST = 10;

/**
 * A query for counts per month: `facets` (when `withFacets`) counts the releases matching
 * `$filter`, by month, programme and office; each alias `p<i>` counts by month the releases
 * matching `$p<i>` (the filter narrowed to one programme). The chart thus costs one request per
 * few programmes, and never a download of the releases themselves.
 */
export function countsQuery(withFacets, seriesCount) {
  const parameters = [];
  const fields = [];
  if (withFacets) {
    parameters.push('$filter: ReleaseFilter');
    fields.push(`facets: releaseFacets(filter: $filter) {
    total
    months { year month count }
    programmes { programme { slug } count }
    offices { office { slug } count }
  }`);
  }
  for (let i = 0; i < seriesCount; i += 1) {
    parameters.push(`$p${i}: ReleaseFilter`);
    fields.push(`p${i}: releaseFacets(filter: $p${i}) { months { year month count } }`);
  }
  return `query Counts(${parameters.join(', ')}) {\n  ${fields.join('\n  ')}\n}`;
}

/** A page of releases; `highlight` only when searching, as the API gives it only then. */
export const RELEASES = `query Releases(
  $filter: ReleaseFilter, $orderBy: ReleaseOrder,
  $first: Int, $after: String, $last: Int, $before: String, $searching: Boolean!
) {
  releases(filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes {
      id slug title publishedOn summary
      highlight @include(if: $searching)
      programmes { slug name acronym }
    }
  }
}`;

/** One release's page. */
export const RELEASE = `query Release($slug: String!) {
  release(slug: $slug) {
    id slug title publishedOn summary imageCredit
    programmes { slug name acronym }
    offices { slug name city }
    related(first: 5) { slug title publishedOn }
  }
}`;
