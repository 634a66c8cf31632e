import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { GraphQLError, specifiedRules, validate, type GraphQLSchema, type ValidationRule } from 'graphql';
import type { AuthUser } from './context';
import { buildContext } from './build-context';
import type { Services } from './services';

const CLOSE_FORBIDDEN = 4403;
const CLOSE_TOKEN_EXPIRED = 4401;

export interface SubscriptionServer {
  /** Closes the sockets of users matching the predicate (a revoked session, a disabled user). */
  closeWhere(predicate: (user: AuthUser) => boolean, reason: string): number;
  /** Closes every socket (1001 going away) and stops accepting new ones. */
  close(): Promise<void>;
  connections(): number;
}

interface SocketState {
  user: AuthUser | null;
  timer?: NodeJS.Timeout;
}

/**
 * GraphQL over WebSocket (graphql-ws protocol) on the HTTP server's /graphql path.
 * Clients authenticate with `connectionParams: { authorization: "Bearer <token>" }`; a socket is
 * closed when its access token expires, or when its session is revoked (closeWhere).
 */
export function createSubscriptionServer(opts: {
  httpServer: http.Server;
  path: string;
  schema: GraphQLSchema;
  services: Services;
  validationRules: ValidationRule[];
  formatError: (err: GraphQLError) => GraphQLError;
}): SubscriptionServer {
  const { services } = opts;
  const wss = new WebSocketServer({ server: opts.httpServer, path: opts.path, maxPayload: 1024 * 1024 });
  const sockets = new Map<WebSocket, SocketState>();
  const rules = [...specifiedRules, ...opts.validationRules];

  const disposable = useServer<Record<string, unknown>, { state: SocketState }>(
    {
      schema: opts.schema,
      validate: (schema, document) => validate(schema, document, rules),
      onConnect: async (ctx) => {
        const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        let user: AuthUser | null = null;
        try {
          user = await services.authenticate(typeof raw === 'string' ? raw : undefined);
        } catch {
          return false; // graphql-ws closes with 4403 Forbidden
        }
        const state: SocketState = { user };
        if (user?.expiresAt) {
          const ms = user.expiresAt * 1000 - Date.now();
          state.timer = setTimeout(() => ctx.extra.socket.close(CLOSE_TOKEN_EXPIRED, 'Access token expired'), Math.max(0, ms));
        }
        sockets.set(ctx.extra.socket, state);
        (ctx.extra as { state?: SocketState }).state = state;
        return true;
      },
      onClose: (ctx) => {
        const state = sockets.get(ctx.extra.socket);
        if (state?.timer) clearTimeout(state.timer);
        sockets.delete(ctx.extra.socket);
      },
      context: (ctx) => {
        const req = ctx.extra.request;
        return buildContext({
          services,
          user: ctx.extra.state?.user ?? null,
          ip: req.socket.remoteAddress ?? '',
          userAgent: String(req.headers['user-agent'] ?? ''),
          requestId: randomUUID(),
        });
      },
      onNext: (_ctx, _id, _payload, _args, result) => {
        if (!('errors' in result) || !result.errors?.length) return result;
        return { ...result, errors: result.errors.map((e) => opts.formatError(e as GraphQLError)) };
      },
    },
    wss,
    12_000,
  );

  return {
    closeWhere(predicate, reason) {
      let n = 0;
      for (const [socket, state] of sockets) {
        if (state.user && predicate(state.user)) {
          socket.close(CLOSE_FORBIDDEN, reason.slice(0, 100));
          n++;
        }
      }
      return n;
    },
    async close() {
      for (const socket of sockets.keys()) socket.close(1001, 'Server shutting down');
      await disposable.dispose(); // closes the WebSocketServer too
    },
    connections: () => sockets.size,
  };
}
