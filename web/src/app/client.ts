// The GraphQL client: urql over fetch (JSON, and multipart when variables hold File/Blob: fetchExchange does the
// GraphQL multipart request itself), subscriptions over graphql-ws on the same /graphql path. Every request carries
// the current access token; one answered UNAUTHENTICATED refreshes the session once and is sent again.
import { Client, cacheExchange, fetchExchange, subscriptionExchange, type ExecutionResult } from 'urql';
import { createClient as createWsClient, type Client as WsClient, type SubscribePayload } from 'graphql-ws';
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

/** What urql's subscriptionExchange hands forwardSubscription's subscribe(). */
interface ResultSink {
  next(value: ExecutionResult): void;
  error(err: unknown): void;
  complete(): void;
}

/** graphql-ws close code: the access token the socket was opened with expired (src/app/websocket.ts). */
const TOKEN_EXPIRED = 4401;

const closedWith = (err: unknown, code: number) => (err as { code?: unknown } | null)?.code === code;

/**
 * A subscription that outlives access tokens. The server closes a socket when the token it was opened with expires
 * (4401), which graphql-ws treats as final; here the session is refreshed and the operation subscribed again on a
 * new socket (opened with the new token). Events sent while no socket was open are not replayed.
 */
function subscribeRenewing(ws: WsClient, input: SubscribePayload, sink: ResultSink): () => void {
  let active = true;
  let stop = () => {};
  const start = () => {
    stop = ws.subscribe<Record<string, unknown>, Record<string, unknown>>(input, {
      next: (value) => sink.next(value),
      complete: () => sink.complete(),
      error: (err) => {
        if (!active || !closedWith(err, TOKEN_EXPIRED)) return sink.error(err);
        // The session's token may be newer than the socket's already (the timer refreshes ahead of expiry).
        void freshAccessToken().then((token) => {
          if (!active) return;
          if (token) start();
          else sink.error(err);
        });
      },
    });
  };
  start();
  return () => {
    active = false;
    stop();
  };
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
          return { subscribe: (sink) => ({ unsubscribe: subscribeRenewing(ws, input, sink) }) };
        },
      }),
    ],
  });
  return { client, ws, dispose: () => void ws.dispose() };
}
