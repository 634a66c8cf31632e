import type { Config } from '../infra/config';
import { connectRedis } from '../infra/messaging/redis';
import { createPubSubAdapter } from '../infra/messaging/pubsub';
import { openDatabase } from '../infra/database/database';
import type { Logger } from '../infra/observability/logger';
import { createMetrics } from '../infra/observability/metrics';
import { createModelsModule } from '../models-registry';
import { createJobsModule } from '../modules/jobs';
import { createReportsModule } from '../modules/reports';

export interface RunningWorker {
  stop(): Promise<void>;
}

/**
 * `dermagraph worker`: loads the models, takes inference jobs from the BullMQ queue and runs
 * them, publishing progress over Redis (any api process's subscribers receive it). Needs
 * DATABASE_URL and REDIS_URL shared with the api processes, and the same DATA_DIR storage.
 */
export async function startWorker(config: Config, logger: Logger): Promise<RunningWorker> {
  if (!config.REDIS_URL)
    throw new Error('dermagraph worker needs REDIS_URL (the job queue); without it the api runs jobs itself');
  if (config.embeddedDatabase)
    throw new Error('dermagraph worker needs DATABASE_URL (a PostgreSQL shared with the api processes)');
  const db = await openDatabase(config, logger, { migrate: false });
  const redis = await connectRedis(config.REDIS_URL, config.REDIS_PREFIX);
  const pubSub = createPubSubAdapter(redis);
  const metrics = createMetrics();
  const models = createModelsModule({
    config,
    forkEm: () => db.orm.em.fork(),
    redis,
    pubSub,
    metricsRegistry: metrics.registry,
    logger,
  });
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
  // Registers the REPORT job kind: workers make large reports too.
  createReportsModule({ config, logger, db, jobs: inference });
  logger.info(
    { concurrency: config.JOB_CONCURRENCY, models: models.registry.list().map((m) => `${m.name}@${m.activeVersion}`) },
    'dermagraph worker ready',
  );
  let stopping: Promise<void> | null = null;
  return {
    stop: () =>
      (stopping ??= (async () => {
        logger.info('worker shutting down: finishing running jobs');
        await inference.close(config.SHUTDOWN_TIMEOUT_MS);
        await models.close();
        await redis.close();
        await db.close();
        logger.info('worker stopped');
      })()),
  };
}
