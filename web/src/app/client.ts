// The GraphQL client: urql over fetch (JSON, and multipart when variables hold File/Blob: fetchExchange does the
// GraphQL multipart request itself), subscriptions over graphql-ws on the same /graphql path. Every request carries
// the current access token; one answered UNAUTHENTICATED refreshes the session once and is sent again.
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from 'urql';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { clearSession, freshAccessToken, getSession, refreshNow } from './session';

export const GRAPHQL_PATH = '/graphql';

function isUnauthenticated(body: unknown): boolean {
  const errors = (body as { errors?: { extensions?: { code?: unknown } }[] } | null)?.errors;
  return Array.isArray(errors) && errors.some((e) => e?.extensions?.code === 'UNAUTHENTICATED');
}

function withAuth(init: RequestInit | undefined, token: string | undefined): RequestInit {
  const headers = new Headers(init?.headers);
  if (token) headers.set('authorization', `Bearer ${token}`);
  else headers.delete('authorization');
  // Apollo's CSRF prevention accepts multipart (upload) requests only with a non-simple header like this one.
  headers.set('apollo-require-preflight', 'true');
  return { ...init, headers };
}

/** fetch with the access token, refreshing it ahead of expiry and once more when the server says UNAUTHENTICATED. */
export async function authFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const hadSession = getSession() !== null;
  const first = await fetch(input, withAuth(init, await freshAccessToken()));
  if (!hadSession || !first.headers.get('content-type')?.includes('json')) return first;
  const body: unknown = await first
    .clone()
    .json()
    .catch(() => null);
  if (!isUnauthenticated(body)) return first;
  const refreshed = await refreshNow();
  if (!refreshed) return first;
  // FormData and strings can be sent again as they are.
  const second = await fetch(input, withAuth(init, refreshed.accessToken));
  const again: unknown = await second
    .clone()
    .json()
    .catch(() => null);
  if (isUnauthenticated(again)) clearSession();
  return second;
}

function wsUrl(): string {
  const { protocol, host } = window.location;
  return `${protocol === 'https:' ? 'wss:' : 'ws:'}//${host}${GRAPHQL_PATH}`;
}

export interface AppClient {
  client: Client;
  ws: WsClient;
  dispose(): void;
}

/** One client per signed-in user (auth.tsx makes a new one on sign-in and sign-out, so no cache outlives its user). */
export function createAppClient(): AppClient {
  const ws = createWsClient({
    url: wsUrl(),
    lazy: true,
    // Read when each socket opens, so a reconnect carries the latest token.
    connectionParams: async () => {
      const token = await freshAccessToken();
      return token ? { authorization: `Bearer ${token}` } : {};
    },
    retryAttempts: 5,
  });
  const client = new Client({
    url: GRAPHQL_PATH,
    fetch: authFetch,
    // Lists and results change under the user (other tabs, jobs): prefer the network, show cache while it answers.
    requestPolicy: 'cache-and-network',
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
  return { client, ws, dispose: () => void ws.dispose() };
}
