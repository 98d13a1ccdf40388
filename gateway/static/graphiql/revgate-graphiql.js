// Starts GraphiQL on the gateway's own endpoint. Configuration comes from the page's
// <script type="application/json" id="revgate-config"> (rendered by gateway/ide.py).
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("revgate-config").textContent);
  var params = new URLSearchParams(window.location.search);
  var endpoint = new URL(config.endpoint, window.location.href);
  var socket = new URL(endpoint.href);
  socket.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";

  var fetcher = GraphiQL.createFetcher({
    url: endpoint.href,
    subscriptionUrl: socket.href,
  });

  // ?query= (or strawberry's ?q=) opens that query in the first tab: shareable links.
  var shared = params.get("query") || params.get("q");
  var tabs = config.tabs.map(function (tab) {
    return { query: tab.query };
  });
  if (shared) {
    tabs.unshift({ query: shared, variables: params.get("variables") || undefined });
  }

  function updateURL(query) {
    var next = new URLSearchParams(window.location.search);
    next.delete("q");
    if (query) {
      next.set("query", query);
    } else {
      next.delete("query");
    }
    var search = next.toString();
    history.replaceState(null, "", search ? "?" + search : window.location.pathname);
  }

  var explorer = GraphiQLPluginExplorer.explorerPlugin();
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultTabs: tabs,
      query: shared || undefined,
      defaultEditorToolsVisibility: true,
      plugins: [explorer],
      onEditQuery: updateURL,
      shouldPersistHeaders: false,
      schemaDescription: true, // the Docs panel shows the schema's own description
    })
  );
})();
