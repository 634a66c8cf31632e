import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';

/** A graphql-ws client signed in with `token`, resolved once the server has acknowledged the connection. */
export async function connectWs(httpUrl: string, token: string): Promise<Client> {
  let client!: Client;
  await new Promise<void>((resolve, reject) => {
    client = createClient({
      url: httpUrl.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      onNonLazyError: reject,
      connectionParams: { authorization: `Bearer ${token}` },
      on: { connected: () => resolve() },
    });
  });
  return client;
}
