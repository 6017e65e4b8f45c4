// Starts GraphiQL on /graphql (served from this site's own files, so it runs under the site's
// Content-Security-Policy: no inline script, no CDN). Queries go to the same address as JSON
// POSTs; the browser's session cookie signs them in. Subscriptions (`seats`) run over a
// WebSocket to the same address (graphql-ws), which needs no sign-in.
(function () {
  var root = document.getElementById("graphiql");
  var endpoint = root.dataset.endpoint || "/graphql";
  var socket = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + endpoint;
  var fetcher = GraphiQL.createFetcher({ url: endpoint, subscriptionUrl: socket });
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
