// Starts the contact-ledger GraphiQL console. Loaded by index.html after the
// React, ReactDOM and GraphiQL UMD builds, which define the globals `React`,
// `ReactDOM` and `GraphiQL`. Kept out of index.html so a strict
// Content-Security-Policy (`script-src 'self'`) works.
(function () {
  "use strict";

  var container = document.getElementById("graphiql");

  function fail(message) {
    container.textContent = "";
    var p = document.createElement("p");
    p.className = "load-error";
    p.textContent = message;
    container.appendChild(p);
  }

  if (typeof React === "undefined" || typeof ReactDOM === "undefined" || typeof GraphiQL === "undefined") {
    fail("GraphiQL could not be loaded (a file under /assets/graphiql/ is missing). The API itself is at /graphql.");
    return;
  }

  var httpUrl = new URL("/graphql", window.location.href).href;
  var wsUrl = (window.location.protocol === "https:" ? "wss:" : "ws:") + "//" + window.location.host + "/graphql/ws";

  // Queries and mutations: HTTP POST to /graphql, with the JSON from the
  // "Headers" tab added as request headers.
  // Subscriptions: the graphql-ws client bundled in graphiql.min.js
  // (protocol `graphql-transport-ws`) connects to /graphql/ws and sends the
  // same JSON headers object as the `connection_init` payload.
  var fetcher = GraphiQL.createFetcher({
    url: httpUrl,
    subscriptionUrl: wsUrl,
  });

  var defaultHeaders = JSON.stringify({ Authorization: "Bearer PASTE-A-TOKEN" }, null, 2);

  var defaultQuery = [
    "# contact-ledger GraphQL console",
    "#",
    "# Most operations need a token. In the",
    "# Headers tab below, replace PASTE-A-TOKEN:",
    "#   {\"Authorization\": \"Bearer <token>\"}",
    "# Headers go with every request and, for",
    "# subscriptions (/graphql/ws), in the",
    "# connection_init payload. They are kept",
    "# in localStorage: clear them when done.",
    "#",
    "# Run: Ctrl-Enter (Cmd-Enter on macOS).",
    "",
    "{",
    "  ledger {",
    "    headPosition",
    "    headHash",
    "    eventCount",
    "  }",
    "}",
    "",
  ].join("\n");

  var root = ReactDOM.createRoot(container);
  root.render(
    React.createElement(
      GraphiQL,
      {
        fetcher: fetcher,
        defaultQuery: defaultQuery,
        defaultHeaders: defaultHeaders,
        shouldPersistHeaders: true,
        isHeadersEditorEnabled: true,
        defaultEditorToolsVisibility: "headers",
      },
      React.createElement(GraphiQL.Logo, null, "contact-ledger")
    )
  );
})();
