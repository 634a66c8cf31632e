import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import type { Context as WsContext } from 'graphql-ws';
import {
  GraphQLError,
  execute,
  subscribe,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import { AppError } from '../infra/errors';
import { toGraphQLError } from '../schema/errors';
import type { AuthUser } from '../schema/context';
import { QueryLimitError, type Armor } from '../infra/http/armor';
import { buildContext } from './build-context';
import { withRequestId } from '../infra/observability/request-scope';
import type { Services } from '../schema/context';

/**
 * Close codes a client may see, besides graphql-ws's own (4400 bad request, 4408 no
 * connection_init in time, ...). docs/auth.md lists when each is sent.
 */
export const WS_CLOSE = {
  /** The access token expired: refresh it and reconnect. */
  TOKEN_EXPIRED: 4401,
  /** A bad token, or the session ended (logout, password change or reset, account disabled). */
  SESSION_REVOKED: 4403,
  /** The user's role changed: reconnect (the same token works) to act with the new role. */
  ROLE_CHANGED: 4003,
  /** Too many sockets for this user or this address (RFC 6455 "Try Again Later"). */
  TRY_AGAIN_LATER: 1013,
} as const;

export interface SocketLimits {
  subscriptionsPerSocket: number;
  socketsPerUser: number;
  socketsPerIp: number;
}

export interface SubscriptionServer {
  /** Closes the sockets of users matching the predicate (a revoked session, a changed role), with `code` (default SESSION_REVOKED). */
  closeWhere(predicate: (user: AuthUser) => boolean, reason: string, code?: number): number;
  /** Closes every socket (1001 going away) and stops accepting new ones. */
  close(): Promise<void>;
  connections(): number;
}

interface SocketState {
  /** As the client sent it: every operation authenticates with it again. */
  authorization?: string;
  user: AuthUser | null;
  ip: string;
  timer?: NodeJS.Timeout;
}

type Ctx = WsContext<Record<string, unknown>, { socket: WebSocket; request: http.IncomingMessage }>;

/** A GraphQL-layer error with the code Apollo gives the same failure over HTTP. */
function withCode(err: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(err.message, {
    source: err.source,
    positions: err.positions,
    nodes: err.nodes,
    extensions: { ...err.extensions, code },
  });
}

/**
 * GraphQL over WebSocket (graphql-ws protocol) on the HTTP server's /graphql path, with the same
 * armor as HTTP (token limit at parse time, validation rules, introspection, suggestion masking,
 * error formatting). Clients authenticate with `connectionParams: { authorization: "Bearer <token>" }`.
 * Every operation re-reads the session and role (one statement), so a role change, a disabled
 * account or an ended session applies to the next operation; open sockets are also closed when
 * the token expires, the session ends (closeWhere) or the role changes. Operations per socket,
 * and sockets per user and per address, are capped. Each operation's context has a signal (as an
 * HTTP request's) aborted when the operation ends, the client completes it or the socket closes, so
 * a `wait: true` mutation stops waiting and releases its subscription when its client has gone.
 */
export function createSubscriptionServer(opts: {
  httpServer: http.Server;
  path: string;
  schema: GraphQLSchema;
  services: Services;
  armor: Armor;
  limits: SocketLimits;
  /** The client's address (proxy-aware, as Express's req.ip). */
  clientIp: (req: http.IncomingMessage) => string;
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
}): SubscriptionServer {
  const { services, armor, limits } = opts;
  const wss = new WebSocketServer({ server: opts.httpServer, path: opts.path, maxPayload: 1024 * 1024 });
  const sockets = new Map<WebSocket, SocketState>();
  const perUser = new Map<string, number>();
  const ipOf = new WeakMap<WebSocket, string>();
  const perIp = new Map<string, number>();
  /** Operations in flight per socket, by id: each aborts its context's signal when it ends, is completed or the socket closes. */
  const operations = new WeakMap<WebSocket, Map<string, AbortController>>();
  /** The same controllers by the operation's payload object (graphql-ws hands it to onSubscribe and onComplete). */
  const byPayload = new WeakMap<object, AbortController>();

  // Registered before graphql-ws's own handler, so a socket over the address cap goes no further.
  wss.on('connection', (socket, req) => {
    const ip = opts.clientIp(req);
    const open = perIp.get(ip) ?? 0;
    if (open >= limits.socketsPerIp) {
      socket.close(WS_CLOSE.TRY_AGAIN_LATER, 'Too many connections from this address');
      return;
    }
    perIp.set(ip, open + 1);
    ipOf.set(socket, ip);
    const ops = new Map<string, AbortController>();
    operations.set(socket, ops);
    // A client's `complete` for an operation still running (a `wait: true` mutation): graphql-ws has no hook for it.
    socket.on('message', (data) => {
      if (!ops.size) return;
      const text = String(data);
      if (!text.includes('complete')) return;
      try {
        const msg = JSON.parse(text) as { type?: unknown; id?: unknown };
        if (msg.type !== 'complete' || typeof msg.id !== 'string') return;
        ops.get(msg.id)?.abort();
        ops.delete(msg.id);
      } catch {
        // Not JSON: graphql-ws closes the socket for it.
      }
    });
    socket.once('close', () => {
      const left = (perIp.get(ip) ?? 1) - 1;
      if (left > 0) perIp.set(ip, left);
      else perIp.delete(ip);
      for (const ac of ops.values()) ac.abort();
      ops.clear();
    });
  });

  const format = (err: GraphQLError): GraphQLFormattedError => {
    const formatted = opts.formatError(err.toJSON(), err);
    return { ...formatted, message: armor.maskSuggestions(formatted.message) };
  };

  /** The caller now: the session and role re-read; an ended session closes the socket after the error is sent. */
  const currentUser = async (socket: WebSocket, state: SocketState): Promise<AuthUser | null | GraphQLError> => {
    if (state.authorization === undefined) return null;
    try {
      state.user = await services.authenticate(state.authorization);
      return state.user;
    } catch (e) {
      // Anything but a refusal (the database is down...) fails this operation only, reported as internal.
      if (!(e instanceof AppError)) return new GraphQLError('Internal server error', { originalError: e as Error });
      if (e.code !== 'UNAUTHENTICATED') return toGraphQLError(e);
      const expired = e.extensions.reason === 'TOKEN_EXPIRED';
      setImmediate(() =>
        socket.close(
          expired ? WS_CLOSE.TOKEN_EXPIRED : WS_CLOSE.SESSION_REVOKED,
          expired ? 'Access token expired' : 'Session revoked',
        ),
      );
      return toGraphQLError(e);
    }
  };

  const requestIdOf = (args: ExecutionArgs) => (args.contextValue as { requestId?: string } | undefined)?.requestId;
  const disposable = useServer<Record<string, unknown>, { socket: WebSocket; request: http.IncomingMessage }>(
    {
      schema: opts.schema,
      // Each operation runs under its own request id, as an HTTP request does: its log lines, jobs, audit rows.
      execute: (args) => withRequestId(requestIdOf(args), () => execute(args)),
      subscribe: (args) => withRequestId(requestIdOf(args), () => subscribe(args)),
      onConnect: async (ctx: Ctx) => {
        if (!ipOf.has(ctx.extra.socket)) return false; // already closed at the address cap
        const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        const authorization = typeof raw === 'string' && raw !== '' ? raw : undefined;
        let user: AuthUser | null = null;
        try {
          user = await services.authenticate(authorization);
        } catch {
          return false; // graphql-ws closes with 4403 Forbidden
        }
        const socket = ctx.extra.socket;
        if (socket.readyState !== socket.OPEN) return false; // the client left while we authenticated
        if (user && (perUser.get(user.id) ?? 0) >= limits.socketsPerUser) {
          socket.close(WS_CLOSE.TRY_AGAIN_LATER, 'Too many connections for this user');
          return false;
        }
        if (user) perUser.set(user.id, (perUser.get(user.id) ?? 0) + 1);
        const state: SocketState = { authorization, user, ip: ipOf.get(socket)! };
        if (user?.expiresAt) {
          const ms = user.expiresAt * 1000 - Date.now();
          state.timer = setTimeout(() => socket.close(WS_CLOSE.TOKEN_EXPIRED, 'Access token expired'), Math.max(0, ms));
        }
        sockets.set(socket, state);
        return true;
      },
      onClose: (ctx: Ctx) => {
        const state = sockets.get(ctx.extra.socket);
        if (!state) return;
        if (state.timer) clearTimeout(state.timer);
        sockets.delete(ctx.extra.socket);
        const id = state.user?.id;
        if (id) {
          const left = (perUser.get(id) ?? 1) - 1;
          if (left > 0) perUser.set(id, left);
          else perUser.delete(id);
        }
      },
      onSubscribe: async (ctx: Ctx, id, payload): Promise<ExecutionArgs | readonly GraphQLError[]> => {
        const socket = ctx.extra.socket;
        const state = sockets.get(socket);
        if (!state) return [toGraphQLError(new AppError('UNAUTHENTICATED', 'This connection is closing'))];
        // graphql-ws has already registered this operation, so the count includes it.
        if (Object.keys(ctx.subscriptions).length > limits.subscriptionsPerSocket) {
          const n = limits.subscriptionsPerSocket;
          return [
            toGraphQLError(
              new AppError('RATE_LIMITED', `At most ${n} operations at once on one connection`, {
                reason: 'TOO_MANY_SUBSCRIPTIONS',
                max: n,
              }),
            ),
          ];
        }
        const user = await currentUser(socket, state);
        if (user instanceof GraphQLError) return [user];
        let document: DocumentNode;
        try {
          document = armor.parse(payload.query);
        } catch (e) {
          if (e instanceof QueryLimitError) return [e];
          return [withCode(e instanceof GraphQLError ? e : new GraphQLError(String(e)), 'GRAPHQL_PARSE_FAILED')];
        }
        const errors = validate(opts.schema, document, armor.allValidationRules);
        if (errors.length)
          return errors.map((e) => (e instanceof QueryLimitError ? e : withCode(e, 'GRAPHQL_VALIDATION_FAILED')));
        const tooCostly = armor.checkCost(opts.schema, document, payload.operationName, payload.variables);
        if (tooCostly) return [tooCostly];
        const req = ctx.extra.request;
        const gone = new AbortController();
        operations.get(socket)?.set(id, gone);
        byPayload.set(payload, gone);
        if (socket.readyState !== socket.OPEN) gone.abort();
        return {
          schema: opts.schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: buildContext({
            services,
            user,
            ip: state.ip,
            userAgent: String(req.headers['user-agent'] ?? ''),
            requestId: randomUUID(),
            signal: gone.signal,
          }),
        };
      },
      onComplete: (ctx: Ctx, id, payload) => {
        const gone = byPayload.get(payload);
        if (!gone) return;
        gone.abort();
        const ops = operations.get(ctx.extra.socket);
        if (ops?.get(id) === gone) ops.delete(id);
      },
      onError: (_ctx, _id, _payload, errors) => errors.map(format),
      onNext: (_ctx, _id, _payload, _args, result) => {
        if (!result.errors?.length) return;
        return { ...result, errors: result.errors.map(format) };
      },
    },
    wss,
    12_000,
  );

  return {
    closeWhere(predicate, reason, code = WS_CLOSE.SESSION_REVOKED) {
      let n = 0;
      for (const [socket, state] of sockets) {
        if (state.user && predicate(state.user)) {
          socket.close(code, reason.slice(0, 100));
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
