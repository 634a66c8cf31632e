import type { Config } from '../infra/config';
import type { PubSub } from '../infra/messaging/pubsub';
import type { RedisConnections } from '../infra/messaging/redis';
import type { Database } from '../infra/database/database';
import type { Logger } from '../infra/observability/logger';
import type { Authenticator } from '../schema/context';
import type { Metrics } from '../infra/observability/metrics';
import type { AuthModule } from '../modules/accounts/setup';
import type { ModelRegistry } from '../models-registry';
import type { InferenceModule } from '../modules/jobs/jobs.module';
import type { FileStore } from '../infra/storage/file-store';

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
