import path from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Registry } from 'prom-client';
import { ConfigError, type Config } from '../infra/config';
import type { PubSub } from '../infra/messaging/pubsub';
import type { RedisConnections } from '../infra/messaging/redis';
import { projectRoot } from '../infra/paths';
import { InMemoryRegistryBus } from './sync/bus';
import { RegistryMetrics } from './runtime/metrics';
import { PgRegistryStore } from './sync/pg-store';
import { RedisRegistryBus } from './sync/redis-bus';
import type { RegistryEvent } from './catalogue/events';
import { ModelRegistry } from './registry';

/**
 * API_LOAD_MODELS: whether this api process creates onnxruntime sessions. `auto`: only when it runs
 * jobs itself; in queue mode the workers run every model, and the api needs only the catalogue
 * (names, versions, labels, the active pointer) to check requests, so it spares the sessions' memory.
 */
export function apiLoadsModels(config: Pick<Config, 'API_LOAD_MODELS'>, mode: 'inline' | 'queue'): boolean {
  if (config.API_LOAD_MODELS === 'never' && mode === 'inline')
    throw new ConfigError([
      'API_LOAD_MODELS: never needs the jobs on workers (REDIS_URL set and JOB_MODE auto or queue); this process runs them inline',
    ]);
  return config.API_LOAD_MODELS === 'always' || mode === 'inline';
}

/** The pub/sub topic of `modelRegistryEvents`: every process publishes its registry's events there. */
export const MODEL_REGISTRY_EVENTS = 'MODEL_REGISTRY_EVENTS';

/** A registry event as it travels over the pub/sub (JSON: the time as an ISO string) with the process it happened in. */
export interface RegistryEventMessage extends Omit<RegistryEvent, 'at'> {
  at: string;
  processId: string;
}

export interface ModelsModule {
  registry: ModelRegistry;
  store: PgRegistryStore;
  /** Where uploaded packages are kept: DATA_DIR/models/<name>/<version>/. */
  packagesDir: string;
  /** Folders scanned at start (and watched with MODEL_WATCH=1): plugins/ and MODEL_DIR. */
  modelDirs: string[];
  /** Loads the packages and activates the stored (else the highest) versions; starts watching. */
  start(): Promise<void>;
  /** Readiness: the start-up load has finished and every known model has an active version. */
  readiness(): Promise<{ name: string; ok: boolean }>;
  close(): Promise<void>;
}

/**
 * Builds the model registry from config: PostgreSQL store, Redis bus when REDIS_URL is set (else
 * in memory), Prometheus metrics on the server's registry, and its events forwarded to the pub/sub
 * so `modelRegistryEvents` subscribers on any api process see every process's events.
 */
export function createModelsModule(opts: {
  config: Config;
  forkEm: () => EntityManager;
  redis: RedisConnections | null;
  pubSub: PubSub;
  metricsRegistry: Registry;
  logger: { info(o: object, msg: string): void; warn(o: object, msg: string): void };
  /** false: catalogue only, no onnxruntime sessions (an api process whose jobs run on workers). */
  loadSessions?: boolean;
}): ModelsModule {
  const { config, logger } = opts;
  const packagesDir = path.join(config.dataDir, 'models');
  const modelDirs = [...new Set([path.join(projectRoot, 'plugins'), path.resolve(config.MODEL_DIR)])];
  const store = new PgRegistryStore(opts.forkEm);
  const bus = opts.redis
    ? new RedisRegistryBus(
        opts.redis.main,
        { url: opts.redis.url, options: opts.redis.options(), watch: opts.redis.watch },
        opts.redis.prefix,
      )
    : new InMemoryRegistryBus();
  const registry = new ModelRegistry({
    packagesDir,
    store,
    bus,
    metrics: new RegistryMetrics(opts.metricsRegistry),
    loadSessions: opts.loadSessions,
  });
  const stopForwarding = registry.onEvent((e) => {
    const message: RegistryEventMessage = { ...e, at: e.at.toISOString(), processId: registry.processId };
    opts.pubSub.publish(MODEL_REGISTRY_EVENTS, message);
    if (e.type === 'failed' || e.type === 'fell_back')
      logger.warn({ model: e.name, version: e.version, message: e.message }, `model registry: ${e.type}`);
  });
  let started = false;

  return {
    registry,
    store,
    packagesDir,
    modelDirs,
    async start() {
      await registry.cleanIncoming();
      const { loaded, failed } = await registry.start(modelDirs);
      started = true;
      logger.info(
        {
          loaded: loaded.map((v) => `${v.name}@${v.version}`),
          failed: failed.map((f) => ({ path: path.relative(projectRoot, f.path), error: f.error.message })),
          active: registry.list().map((m) => `${m.name}@${m.activeVersion}`),
        },
        'model registry started',
      );
      if (config.MODEL_WATCH) registry.watch(modelDirs);
    },
    async readiness() {
      return { name: 'models', ok: started && registry.list().every((m) => m.activeVersion !== null) };
    },
    async close() {
      stopForwarding();
      await registry.close();
    },
  };
}
