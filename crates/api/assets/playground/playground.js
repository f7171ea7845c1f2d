/**
 * Starts the GraphiQL playground. React, ReactDOM and GraphiQL are the vendored UMD builds that
 * the page loads before this script (as globals); the endpoint and the query shown on a first
 * visit come from the page's #playground-config JSON block, written by the server. Every
 * request asks for the query's cost report.
 */
'use strict';

(function startPlayground() {
  const config = JSON.parse(document.getElementById('playground-config').textContent);
  const fetcher = GraphiQL.createFetcher({
    url: new URL(config.endpoint, window.location.origin).toString(),
    // Asks the server for each query's cost and depth, shown under `extensions.cost` in
    // the result, so that limits are visible before they are reached.
    headers: { 'x-report-cost': 'true' },
  });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultQuery: config.defaultQuery,
      defaultEditorToolsVisibility: true,
    }),
  );
})();
