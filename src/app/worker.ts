import type { Config } from '../infra/config';
import { connectRedis } from '../infra/messaging/redis';
import { createPubSubAdapter } from '../infra/messaging/pubsub';
import { openDatabase } from '../infra/database/database';
import type { Logger } from '../infra/observability/logger';
import { createMetrics } from '../infra/observability/metrics';
import { createModelsModule } from '../models-registry';
import { createJobsModule } from '../modules/jobs';
import { createReportsModule } from '../modules/reports';
import { startWorkerHttp, type WorkerHttp } from './worker-http';
import { startMonitoring } from '../modules/system';

export interface RunningWorker {
  /** The port of /healthz, /readyz and /metrics (WORKER_HTTP_PORT; with 0, the one it was given). */
  httpPort: number;
  stop(): Promise<void>;
}

/**
 * `dermagraph worker`: loads the models, takes inference jobs from the BullMQ queue and runs
 * them, publishing progress over Redis (any api process's subscribers receive it). Needs
 * DATABASE_URL and REDIS_URL shared with the api processes, and the same DATA_DIR storage.
 * Serves /healthz, /readyz and /metrics on HOST:WORKER_HTTP_PORT (src/app/worker-http.ts) from the
 * start, so an orchestrator sees it alive (and not ready) while the models load.
 */
export async function startWorker(config: Config, logger: Logger): Promise<RunningWorker> {
  if (!config.REDIS_URL)
    throw new Error('dermagraph worker needs REDIS_URL (the job queue); without it the api runs jobs itself');
  if (config.embeddedDatabase)
    throw new Error('dermagraph worker needs DATABASE_URL (a PostgreSQL shared with the api processes)');
  const db = await openDatabase(config, logger, { migrate: false });
  // A start that fails half-way closes what it opened, so the process can exit with one clear error.
  const undo: Array<() => Promise<unknown>> = [() => db.close()];
  try {
    return await startParts(config, logger, db, undo);
  } catch (err) {
    for (const u of undo.reverse()) await u().catch(() => undefined);
    throw err;
  }
}

async function startParts(
  config: Config,
  logger: Logger,
  db: Awaited<ReturnType<typeof openDatabase>>,
  undo: Array<() => Promise<unknown>>,
): Promise<RunningWorker> {
  const redis = await connectRedis(config.REDIS_URL, config.REDIS_PREFIX, logger);
  undo.push(() => redis.close());
  const pubSub = createPubSubAdapter(redis);
  const metrics = createMetrics();
  let draining = false;
  const models = createModelsModule({
    config,
    forkEm: () => db.orm.em.fork(),
    redis,
    pubSub,
    metricsRegistry: metrics.registry,
    logger,
  });
  undo.push(() => models.close());
  const http: WorkerHttp = await startWorkerHttp({
    host: config.HOST,
    port: config.WORKER_HTTP_PORT,
    metrics: metrics.registry,
    checks: [
      { name: 'database', check: () => db.ping() },
      { name: 'redis', check: () => redis.ping() },
      { name: 'models', check: async () => (await models.readiness()).ok },
    ],
    draining: () => draining,
  });
  undo.push(() => http.close());
  await models.start();
  const inference = await createJobsModule({
    config,
    db,
    redis,
    pubSub,
    logger,
    metrics,
    registry: models.registry,
    role: 'worker',
  });
  undo.push(() => inference.close(0));
  // Registers the REPORT job kind: workers make large reports too.
  createReportsModule({ config, logger, db, jobs: inference });
  // Heartbeat (systemStatus.processes), log lines for serverLogs / serverLogStream, usage counters.
  const monitoring = startMonitoring({
    config,
    redis,
    pubSub,
    logger,
    role: 'worker',
    models: models.registry,
    metricsRegistry: metrics.registry,
  });
  undo.push(() => monitoring.close());
  logger.info(
    {
      concurrency: config.JOB_CONCURRENCY,
      models: models.registry.list().map((m) => `${m.name}@${m.activeVersion}`),
      http: `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${http.port}`,
      httpPort: http.port,
    },
    'dermagraph worker ready',
  );
  let stopping: Promise<void> | null = null;
  return {
    httpPort: http.port,
    stop: () =>
      (stopping ??= (async () => {
        logger.info('worker shutting down: finishing running jobs');
        draining = true; // /readyz answers 503 while running jobs finish; /healthz and /metrics still answer
        await inference.close(config.SHUTDOWN_TIMEOUT_MS);
        await models.close();
        await monitoring.close(); // its last usage counts flushed, its heartbeat removed
        await http.close();
        await redis.close();
        await db.close();
        logger.info('worker stopped');
      })()),
  };
}
