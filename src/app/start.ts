import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import express from 'express';
import cors from 'cors';
import pinoHttp from 'pino-http';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { defaultPublicUrl, type Config } from '../infra/config';
import { ensureSecrets } from '../infra/config/secrets';
import { connectRedis, type RedisConnections } from '../infra/messaging/redis';
import { createPubSubAdapter } from '../infra/messaging/pubsub';
import { buildAppSchema } from '../schema/build';
import { openDatabase } from '../infra/database/database';
import { createLogger, flushLogs, type Logger } from '../infra/observability/logger';
import { requestScope } from '../infra/observability/request-scope';
import { startMonitoring } from '../modules/system';
import { createMetrics, metricsPlugin } from '../infra/observability/metrics';
import { createErrorFormatter, finalErrorHandler, notFoundHandler } from '../schema/errors';
import { guardSchema } from '../schema/guard';
import { createArmor } from '../infra/http/armor';
import type { Services } from '../schema/context';
import type { AppContext, AuthUser } from '../schema/context';
import { Role } from '../entities';
import { buildContext } from './build-context';
import { createSubscriptionServer, WS_CLOSE, type SubscriptionServer } from './websocket';
import { graphiqlRouter } from '../infra/http/graphiql';
import { healthRouter } from './health';
import { startFileGc } from './file-gc';
import { multipartUploads, transportErrorHandler, uploadCaller } from '../infra/http/uploads';
import {
  bridgeRoleChanges,
  bridgeSessionRevocations,
  accountPagesRouter,
  createAccountsModule,
  jwksRouter,
  type AccountsModuleOptions,
} from '../modules/accounts';
import { createFileStore } from '../infra/storage/file-store';
import { apiLoadsModels, createModelsModule } from '../models-registry';
import { imageFileRoute } from '../modules/images';
import { createJobsModule, jobMode, resultFileRoutes } from '../modules/jobs';
import { createReportsModule } from '../modules/reports';
import { researchCsvRoute } from '../modules/research';
import { signedFilesRouter } from '../infra/http/signed-files';
import { defaultWebDistDir, webConsoleRouter } from './web-console';

export const GRAPHQL_PATH = '/graphql';

/** Express's req.ip (TRUST_PROXY-aware) for a request Express does not route: the WebSocket upgrade. */
function requestIp(app: express.Express, req: http.IncomingMessage): string {
  const view = Object.assign(Object.create(app.request) as express.Request, {
    app,
    headers: req.headers,
    socket: req.socket,
  });
  return view.ip ?? req.socket.remoteAddress ?? '';
}

export interface StartOptions {
  logger?: Logger;
  /** Resolver classes added to the schema (tests probe transport features with them). */
  extraResolvers?: Function[];
  /** Accounts options (tests set small rate limits). */
  auth?: AccountsModuleOptions;
  /** The built web console (default: web/dist of this repository). */
  webDistDir?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  httpServer: http.Server;
  services: Services;
  subscriptions: SubscriptionServer;
  /** Drains HTTP, WebSocket and jobs, then closes the database and Redis. Idempotent. */
  stop(): Promise<void>;
  /** SIGINT/SIGTERM run stop() and exit. */
  stopOnSignals(): void;
}

/** Starts one api process: database (+ migrations), Redis when configured, GraphQL over HTTP and WebSocket. */
export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config);
  const startedAt = new Date();
  ensureSecrets(config); // unset secrets: generated once under DATA_DIR/keys, never a public default
  const db = await openDatabase(config, logger);
  // A start that fails half-way closes what it opened (tests and embedding callers reuse the process).
  const undoOnFailure: Array<() => Promise<unknown>> = [() => db.close()];
  try {
    const redis: RedisConnections | null = config.REDIS_URL
      ? await connectRedis(config.REDIS_URL, config.REDIS_PREFIX, logger)
      : null;
    if (redis) undoOnFailure.push(() => redis.close());
    const pubSub = createPubSubAdapter(redis);
    const metrics = createMetrics();
    const auth = await createAccountsModule({
      config,
      forkEm: () => db.orm.em.fork(),
      redis,
      logger,
      options: opts.auth,
    });
    const models = createModelsModule({
      config,
      forkEm: () => db.orm.em.fork(),
      redis,
      pubSub,
      metricsRegistry: metrics.registry,
      logger,
      loadSessions: apiLoadsModels(config, jobMode(config, redis)),
    });
    undoOnFailure.push(() => models.close());
    const inference = await createJobsModule({
      config,
      db,
      redis,
      pubSub,
      logger,
      metrics,
      registry: models.registry,
      role: 'api',
    });
    undoOnFailure.push(() => inference.close());
    const reports = createReportsModule({ config, logger, db, jobs: inference });
    // Heartbeat, log lines for serverLogs / serverLogStream, usage counters (src/modules/system/monitoring.ts).
    const monitoring = startMonitoring({
      config,
      redis,
      pubSub,
      logger,
      role: 'api',
      startedAt,
      models: models.registry,
      metricsRegistry: metrics.registry,
    });
    undoOnFailure.push(() => monitoring.close());
    const services: Services = {
      config,
      db,
      redis,
      pubSub,
      logger,
      metrics,
      auth,
      startedAt,
      models: models.registry,
      inference,
      reports,
      monitoring,
      logs: monitoring.logs,
      files: createFileStore(config.dataDir),
      authenticate: (authorization) => auth.authentication.authenticate(authorization),
    };
    if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
      const admin = await auth.userAdmin.createAdmin(
        db.orm.em.fork(),
        { email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD },
        { onlyIfNoAdmin: true },
      );
      if (admin) logger.info({ email: admin.email }, 'created the first admin from ADMIN_EMAIL');
    }

    // NUL in string arguments refused; unexpected errors tagged with their request id (every transport).
    const schema = guardSchema(await buildAppSchema({ pubSub, extraResolvers: opts.extraResolvers }));
    const app = express();
    app.disable('x-powered-by');
    app.set('trust proxy', config.TRUST_PROXY);
    const httpServer = http.createServer({ keepAliveTimeout: config.HTTP_KEEP_ALIVE_TIMEOUT_MS }, app);
    const formatError = createErrorFormatter(logger);
    const armor = createArmor(config);

    const subscriptions = createSubscriptionServer({
      httpServer,
      path: GRAPHQL_PATH,
      schema,
      services,
      armor,
      limits: {
        subscriptionsPerSocket: config.WS_MAX_SUBSCRIPTIONS_PER_SOCKET,
        socketsPerUser: config.WS_MAX_SOCKETS_PER_USER,
        socketsPerIp: config.WS_MAX_SOCKETS_PER_IP,
      },
      clientIp: (req) => requestIp(app, req),
      formatError,
    });
    // Ended sessions (logout, reset, disable, token reuse) and role changes close their subscription sockets at once, on every process.
    const stopRevocations = bridgeSessionRevocations(auth.events, pubSub, (e) =>
      subscriptions.closeWhere(
        (u) => u.id === e.userId && (e.sessionId ? u.sessionId === e.sessionId : u.sessionId !== e.exceptSessionId),
        'Session revoked',
      ),
    );
    const stopRoleChanges = bridgeRoleChanges(auth.events, pubSub, (e) =>
      subscriptions.closeWhere((u) => u.id === e.userId, 'Role changed; reconnect', WS_CLOSE.ROLE_CHANGED),
    );

    const apollo = new ApolloServer<AppContext>({
      schema,
      csrfPrevention: true,
      introspection: armor.introspection,
      includeStacktraceInErrorResponses: false,
      hideSchemaDetailsFromClientErrors: !armor.introspection,
      allowBatchedHttpRequests: false,
      stopOnTerminationSignals: false, // our own handler drains jobs and closes the database after Apollo
      validationRules: armor.validationRules,
      parseOptions: armor.parseOptions,
      formatError,
      plugins: [
        ...armor.plugins,
        ApolloServerPluginDrainHttpServer({ httpServer }),
        ApolloServerPluginLandingPageDisabled(),
        metricsPlugin(metrics),
        {
          async serverWillStart() {
            return {
              async drainServer() {
                await subscriptions.close();
              },
            };
          },
        },
      ],
    });
    await apollo.start();
    undoOnFailure.push(() => apollo.stop());

    app.use(
      pinoHttp({
        logger,
        genReqId: (req, res) => {
          const given = req.headers['x-request-id'];
          const id = typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
          res.setHeader('x-request-id', id);
          return id;
        },
        autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/metrics' },
        // Method, path and id only: headers carry tokens, and signed URLs carry signatures in the query.
        serializers: {
          req: (req: { id: unknown; method: string; url: string; remoteAddress?: string }) => ({
            id: req.id,
            method: req.method,
            path: req.url.split('?')[0],
            ip: req.remoteAddress,
          }),
          res: (res: { statusCode: number }) => ({ status: res.statusCode }),
        },
      }),
    );
    // Every route runs under its request id (signed downloads audit too); GraphQL enters it again after its body parsers.
    app.use(requestScope());
    app.use(healthRouter(services, [models.readiness]));
    app.use(jwksRouter(auth.jwt));
    // The web console at `/` (web/dist): before the account pages, whose mailed links it opens for browsers
    // that ask for HTML; it never answers API paths (/graphql, /files, /healthz, ...) nor non-HTML requests.
    const webDistDir = opts.webDistDir ?? defaultWebDistDir();
    app.use(webConsoleRouter({ distDir: webDistDir, logger }));
    // The pages the mailed verification and reset links open (GET shows a form, POST does the action).
    app.use(accountPagesRouter({ auth, forkEm: () => db.orm.em.fork(), logger }));
    app.use(
      signedFilesRouter(
        config.URL_SIGNING_SECRET,
        [
          imageFileRoute({ config, store: services.files, forkEm: () => db.orm.em.fork() }),
          ...resultFileRoutes({ db, files: inference.files, images: inference.images, results: inference.results }),
          reports.fileRoute,
          researchCsvRoute({ config, forkEm: () => db.orm.em.fork(), logger }),
        ],
        { corsOrigins: config.CORS_ORIGINS },
      ),
    );
    // CORS first: it must answer preflights before any router's automatic OPTIONS reply.
    app.use(GRAPHQL_PATH, cors({ origin: config.CORS_ORIGINS, credentials: true, maxAge: 600 }));
    if (config.graphiqlEnabled) {
      // GraphiQL is built beside the console (web/dist/graphiql), by the same `npm run build:web`.
      const distDir = path.join(webDistDir, 'graphiql');
      app.use(graphiqlRouter({ endpoint: GRAPHQL_PATH, subscriptionEndpoint: GRAPHQL_PATH, distDir, logger }));
    }
    app.use(
      GRAPHQL_PATH,
      express.json({ limit: '1mb' }),
      // Multipart: refused unread unless signed in; file size by role (images; model packages for admins).
      multipartUploads(config, {
        authenticate: services.authenticate,
        mayUploadPackages: (user) => user.role === Role.ADMIN,
      }),
      // From here on the request's id follows every await: log lines, the jobs it queues, its audit rows.
      requestScope(),
      expressMiddleware(apollo, {
        context: async ({ req, res }) => {
          const user = uploadCaller<AuthUser>(res) ?? (await services.authenticate(req.headers.authorization));
          // A client that leaves before its answer ends the operation's waits (`wait: true`).
          const gone = new AbortController();
          res.once('close', () => res.writableFinished || gone.abort());
          return buildContext({
            services,
            user,
            ip: req.ip ?? '',
            userAgent: String(req.headers['user-agent'] ?? ''),
            requestId: String(req.id),
            logger: req.log,
            signal: gone.signal,
          });
        },
      }),
      transportErrorHandler,
    );
    // JSON 404s, and no stack or path from any route's unexpected error (Express prints them outside production).
    app.use(notFoundHandler());
    app.use(finalErrorHandler(logger));

    await models.start();
    // Embedded mode keeps the queue in memory: jobs a stopped process left unfinished run again.
    if (inference.mode === 'inline') await inference.requeueUnfinished();
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.PORT, config.HOST, () => resolve());
    });
    const port = (httpServer.address() as AddressInfo).port;
    // PUBLIC_URL unset: links follow the port the server listens on (PORT=0: the one it was given).
    if (config.publicUrlFromPort) config.PUBLIC_URL = defaultPublicUrl(config.HOST, port);
    const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
    const url = `http://${host}:${port}${GRAPHQL_PATH}`;
    logger.info(
      { url, database: db.embedded ? 'pglite' : 'postgresql', redis: !!redis, ms: Date.now() - startedAt.getTime() },
      'dermagraph ready',
    );
    // Files no row references (a crash between storing files and committing rows), every FILE_GC_INTERVAL_MINUTES.
    const stopFileGc = startFileGc(config, db, services.files, logger);

    let stopping: Promise<void> | null = null;
    const stop = () =>
      (stopping ??= (async () => {
        logger.info('shutting down: draining HTTP and WebSocket');
        const timeout = setTimeout(() => {
          logger.warn('shutdown timed out; closing connections');
          httpServer.closeAllConnections();
        }, config.SHUTDOWN_TIMEOUT_MS).unref();
        await apollo.stop(); // drains HTTP (in-flight requests finish) and the WebSocket server
        await stopRevocations();
        await stopRoleChanges();
        await auth.drainBackground();
        await stopFileGc();
        await inference.close(); // running jobs finish (up to SHUTDOWN_TIMEOUT_MS); BullMQ keeps the queued ones
        await models.close();
        await monitoring.close(); // its last usage counts flushed, its heartbeat removed
        logger.debug('HTTP and WebSocket drained');
        await redis?.close();
        await db.close();
        clearTimeout(timeout);
        logger.info('stopped');
      })());

    return {
      url,
      port,
      httpServer,
      services,
      subscriptions,
      stop,
      stopOnSignals() {
        const onSignal = (signal: string) => {
          logger.info({ signal }, 'signal received');
          stop().then(
            () => flushLogs(logger).then(() => process.exit(0)),
            (err) => {
              logger.error({ err }, 'shutdown failed');
              void flushLogs(logger).then(() => process.exit(1));
            },
          );
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      },
    };
  } catch (err) {
    for (const undo of undoOnFailure.reverse()) await undo().catch(() => undefined);
    throw err;
  }
}
