/*
 * Dermagraph GraphQL IDE bootstrap (browser script, loaded after React, ReactDOM, GraphiQL 3 UMD
 * and the graphql-ws UMD build). No inline script anywhere, so the page runs under a strict CSP.
 *
 * Queries and mutations go over HTTP POST with the headers typed in GraphiQL's headers pane.
 * Subscriptions go over graphql-ws (graphql-transport-ws protocol) on the subscription endpoint,
 * with `connectionParams: { authorization }` taken from the same headers pane, because browsers
 * cannot set headers on a WebSocket upgrade request.
 */
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('graphiql-config').textContent);
  var httpUrl = new URL(config.endpoint, window.location.href).toString();
  var wsUrl = (function () {
    var url = new URL(config.subscriptionEndpoint, window.location.href);
    if (url.protocol === 'http:') url.protocol = 'ws:';
    if (url.protocol === 'https:') url.protocol = 'wss:';
    return url.toString();
  })();

  /**
   * Case-insensitive header lookup; GraphiQL hands over the headers pane as a plain object.
   * Empty values count as absent, so the pane's empty "Authorization" template sends nothing.
   */
  function headerValue(headers, name) {
    if (!headers) return undefined;
    var wanted = name.toLowerCase();
    for (var key in headers) {
      if (Object.prototype.hasOwnProperty.call(headers, key) && key.toLowerCase() === wanted) {
        var value = headers[key] == null ? '' : String(headers[key]);
        return value.trim() === '' ? undefined : value;
      }
    }
    return undefined;
  }

  /** True when the operation GraphiQL is about to run is a subscription (read from its parsed document). */
  function isSubscription(documentAST, operationName) {
    if (!documentAST || !documentAST.definitions) return false;
    var operations = documentAST.definitions.filter(function (d) {
      return d.kind === 'OperationDefinition';
    });
    var chosen = operationName
      ? operations.filter(function (d) { return d.name && d.name.value === operationName; })[0]
      : operations.length === 1 ? operations[0] : undefined;
    return Boolean(chosen && chosen.operation === 'subscription');
  }

  // One socket at a time: connectionParams are fixed per connection, so a different Authorization
  // in the headers pane needs a fresh connection (and ends subscriptions made with the old one).
  var ws = { client: null, authorization: undefined };
  function wsClientFor(authorization) {
    if (ws.client && ws.authorization === authorization) return ws.client;
    if (ws.client) ws.client.dispose();
    ws.authorization = authorization;
    ws.client = window.graphqlWs.createClient({
      url: wsUrl,
      lazy: true,
      retryAttempts: 3,
      shouldRetry: function (reason) { return !isServerVerdict(reason); },
      connectionParams: authorization === undefined ? {} : { authorization: authorization },
    });
    return ws.client;
  }

  /** Close codes 4000-4999 are the server's verdict (e.g. 4403 Forbidden): retrying cannot help. */
  function isServerVerdict(reason) {
    return Boolean(reason && typeof reason.code === 'number' && reason.code >= 4000 && reason.code <= 4999);
  }

  /**
   * graphql-ws reports a failed connection as a CloseEvent or Event. GraphiQL prints what it gets,
   * stack included, so hand it a plain { message }.
   */
  function toDisplayError(reason) {
    if (reason instanceof Error) return { message: reason.message };
    if (reason && typeof reason.code === 'number') {
      return { message: 'WebSocket closed (' + reason.code + (reason.reason ? ': ' + reason.reason : '') + ')' };
    }
    return { message: 'WebSocket connection to ' + wsUrl + ' failed' };
  }

  function subscribeOverWs(params, headers) {
    var client = wsClientFor(headerValue(headers, 'authorization'));
    return {
      subscribe: function (observer) {
        var unsubscribe = client.subscribe(
          { query: params.query, variables: params.variables || undefined, operationName: params.operationName || undefined },
          {
            next: function (result) { observer.next(result); },
            error: function (reason) {
              // An array is the server's GraphQL errors for this operation (e.g. validation).
              if (Array.isArray(reason)) {
                observer.next({ errors: reason });
                observer.complete();
              } else {
                observer.error(toDisplayError(reason));
              }
            },
            complete: function () { observer.complete(); },
          },
        );
        return { unsubscribe: unsubscribe };
      },
    };
  }

  function fetchOverHttp(params, headers) {
    var requestHeaders = {
      accept: 'application/graphql-response+json, application/json',
      'content-type': 'application/json',
    };
    for (var key in headers || {}) {
      var value = headerValue(headers, key);
      if (value !== undefined) requestHeaders[key.toLowerCase()] = value;
    }
    return fetch(httpUrl, {
      method: 'POST',
      headers: requestHeaders,
      credentials: 'same-origin',
      body: JSON.stringify(params),
    }).then(function (response) {
      return response.text().then(function (text) {
        try {
          return JSON.parse(text);
        } catch (e) {
          throw new Error('HTTP ' + response.status + ' ' + response.statusText + ': ' + text.slice(0, 500));
        }
      });
    });
  }

  function fetcher(params, options) {
    var headers = (options && options.headers) || {};
    if (isSubscription(options && options.documentAST, params.operationName)) {
      return subscribeOverWs(params, headers);
    }
    return fetchOverHttp(params, headers);
  }

  // A link like /graphql?query=...&variables=... opens with that operation in the editor.
  var search = new URLSearchParams(window.location.search);
  var props = {
    fetcher: fetcher,
    defaultQuery: config.defaultQuery,
    defaultHeaders: config.defaultHeaders,
    isHeadersEditorEnabled: true,
    // Headers hold bearer tokens: keep them out of localStorage.
    shouldPersistHeaders: false,
    defaultEditorToolsVisibility: 'headers',
  };
  if (search.get('query')) props.query = search.get('query');
  if (search.get('variables')) props.variables = search.get('variables');
  if (search.get('operationName')) props.operationName = search.get('operationName');

  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, props));
})();
