import type { Config } from '../config';
import type { PubSub } from '../adapters/pubsub';
import type { RedisConnections } from '../adapters/redis';
import type { Database } from './database';
import type { Logger } from './logger';
import type { Authenticator } from './context';
import type { Metrics } from './metrics';
import type { AuthModule } from '../auth/setup';
import type { ModelRegistry } from '../models-registry';
import type { InferenceModule } from '../jobs/module';
import type { FileStore } from '../storage/file-store';

/**
 * The process's services, built once at start from config and handed to resolvers through the
 * context. Each service takes its dependencies explicitly so a test can build one alone.
 * Later features add their service here.
 */
export interface Services {
  config: Config;
  db: Database;
  redis: RedisConnections | null;
  pubSub: PubSub;
  logger: Logger;
  metrics: Metrics;
  authenticate: Authenticator;
  /** Accounts: AuthService, its rate limiter and counters (src/auth/setup.ts). */
  auth: AuthModule;
  /** The model registry: packages, active versions, leases for inference (src/models-registry, docs/models.md). */
  models: ModelRegistry;
  /** Inference jobs: queue, progress, runner where this process runs them (src/jobs). */
  inference: InferenceModule;
  /** Content-addressed files under DATA_DIR/files: images, derived copies, result maps (src/storage/file-store.ts). */
  files: FileStore;
  startedAt: Date;
}

/** Without the accounts feature wired, every request is anonymous. */
export const anonymous: Authenticator = async () => null;
