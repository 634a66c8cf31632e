// The IDE's fetcher. Queries and mutations: @graphiql/toolkit's HTTP fetcher, with the headers pane's non-empty
// headers. Subscriptions: graphql-ws (graphql-transport-ws) with `connectionParams: { authorization }` from the same
// pane, because a browser cannot set headers on a WebSocket upgrade.
import { createGraphiQLFetcher, type Fetcher, type FetcherParams, type Observable } from '@graphiql/toolkit';
import type { FormattedExecutionResult } from 'graphql';
import { createClient, type Client, type ExecutionResult } from 'graphql-ws';
import {
  headerValue,
  isServerVerdict,
  isSubscription,
  nonEmptyHeaders,
  socketFailureMessage,
  type PaneHeaders,
} from './operation';

/** fetch() for the toolkit: drops empty headers, and turns a non-JSON answer (a proxy's 502 page) into words. */
async function jsonFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const response = await fetch(input, {
    ...init,
    headers: nonEmptyHeaders(init?.headers as PaneHeaders),
    credentials: 'same-origin',
  });
  if (!/json/i.test(response.headers.get('content-type') ?? '')) {
    const text = await response.text();
    throw new Error(`HTTP ${response.status} ${response.statusText}: ${text.slice(0, 500)}`);
  }
  return response;
}

/**
 * One socket at a time: connectionParams are fixed per connection, so another Authorization in the headers pane
 * takes a fresh socket (and ends what ran on the old one).
 */
function socketPerAuthorization(url: string): (authorization: string | undefined) => Client {
  let current: { authorization: string | undefined; client: Client } | undefined;
  return (authorization) => {
    if (current && current.authorization === authorization) return current.client;
    void current?.client.dispose();
    const client = createClient({
      url,
      // Opened by the first subscription, not by the page.
      lazy: true,
      retryAttempts: 3,
      shouldRetry: (reason) => !isServerVerdict(reason),
      connectionParams: authorization === undefined ? {} : { authorization },
    });
    current = { authorization, client };
    return client;
  };
}

type Result = FormattedExecutionResult<Record<string, unknown>, unknown>;
type Observer = { next(value: Result): void; error(error: unknown): void; complete(): void };

/** A subscription as GraphiQL takes it (an Observable); the server's GraphQL errors are shown as a result. */
function subscription(client: Client, params: FetcherParams, url: string): Observable<ExecutionResult> {
  const subscribe = (
    first?: Partial<Observer> | Observer['next'],
    error?: Observer['error'],
    complete?: () => void,
  ) => {
    const sink = typeof first === 'function' || first === undefined ? { next: first, error, complete } : first;
    const unsubscribe = client.subscribe(
      {
        query: params.query,
        variables: params.variables ?? undefined,
        operationName: params.operationName ?? undefined,
      },
      {
        next: (result) => sink.next?.(result),
        error: (reason) => {
          // An array is the server's verdict on this operation (e.g. validation errors): a result, not a failure.
          if (Array.isArray(reason)) {
            sink.next?.({ errors: reason });
            sink.complete?.();
          } else {
            sink.error?.(socketFailureMessage(reason, url));
          }
        },
        complete: () => sink.complete?.(),
      },
    );
    return { unsubscribe };
  };
  // Results arrive as JSON (FormattedExecutionResult); the toolkit's type names graphql-ws's ExecutionResult.
  return { subscribe } as unknown as Observable<ExecutionResult>;
}

export function dermagraphFetcher(httpUrl: string, wsUrl: string): Fetcher {
  const http = createGraphiQLFetcher({ url: httpUrl, fetch: jsonFetch, enableIncrementalDelivery: false });
  const socketFor = socketPerAuthorization(wsUrl);
  return (params, options) => {
    if (!isSubscription(options?.documentAST, params.operationName)) return http(params, options);
    return subscription(socketFor(headerValue(options?.headers, 'authorization')), params, wsUrl);
  };
}
