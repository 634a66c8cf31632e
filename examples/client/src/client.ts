// One Apollo Client for the whole API: subscriptions over graphql-ws on the same /graphql path, everything else
// over HTTP through apollo-upload-client's link, which sends a GraphQL multipart request when the variables hold
// a File (uploads) and a plain JSON POST otherwise.
import { ApolloClient, ApolloLink, InMemoryCache } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import UploadHttpLink from 'apollo-upload-client/UploadHttpLink.mjs';
import { OperationTypeNode } from 'graphql';
import { createClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';

export interface Api {
  apollo: ApolloClient;
  /** Signs the HTTP requests and WebSocket connections that follow. */
  setAccessToken(token: string): void;
  /** Closes the WebSocket and stops the client, so that the process can exit. */
  close(): Promise<void>;
}

export function createApi(httpUrl: string): Api {
  let accessToken: string | undefined;
  const authorization = () => (accessToken ? `Bearer ${accessToken}` : undefined);

  const ws: WsClient = createClient({
    url: httpUrl.replace(/^http/, 'ws'),
    // Node 20 has no global WebSocket; a browser would leave this out.
    webSocketImpl: WebSocket,
    // Read at each (re)connection: the server authenticates the socket from its connection parameters.
    connectionParams: () => ({ authorization: authorization() }),
    lazy: true,
    retryAttempts: 0,
  });

  const http = ApolloLink.from([
    new SetContextLink((prev) => ({
      headers: {
        ...prev.headers,
        ...(accessToken ? { authorization: authorization() } : {}),
        // The server's CSRF prevention wants this on every request that is not plain JSON (uploads are multipart).
        'apollo-require-preflight': 'true',
      },
    })),
    new UploadHttpLink({ uri: httpUrl }),
  ]);

  const link = ApolloLink.split(
    ({ query }) => {
      const def = getMainDefinition(query);
      return def.kind === 'OperationDefinition' && def.operation === OperationTypeNode.SUBSCRIPTION;
    },
    new GraphQLWsLink(ws),
    http,
  );

  const apollo = new ApolloClient({ link, cache: new InMemoryCache() });
  return {
    apollo,
    setAccessToken(token) {
      accessToken = token;
    },
    async close() {
      apollo.stop();
      await ws.dispose();
    },
  };
}
