// Starts GraphiQL on /graphql (served from this site's own files, so it runs under the site's
// Content-Security-Policy: no inline script, no CDN). Queries go to the same address as JSON
// POSTs; the browser's session cookie signs them in.
(function () {
  var root = document.getElementById("graphiql");
  var fetcher = GraphiQL.createFetcher({ url: root.dataset.endpoint || "/graphql" });
  var defaultQuery = [
    "# Upcoming events, twenty at a time: pass pageInfo.endCursor as `after` for the next ones.",
    "query Upcoming($after: String) {",
    "  allEvents(first: 20, after: $after) {",
    "    totalCount",
    "    pageInfo { hasNextPage endCursor }",
    "    edges { cursor node { uuid title startsAt city remainingSeats } }",
    "  }",
    "}",
    "",
  ].join("\n");
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, { fetcher: fetcher, defaultQuery: defaultQuery }),
  );
})();
