import type { EntityManager } from '@mikro-orm/postgresql';
import type { Role } from '../entities';
import type { Logger } from '../infra/observability/logger';
import type { Config } from '../infra/config';
import type { Database } from '../infra/database/database';
import type { PubSub } from '../infra/messaging/pubsub';
import type { RedisConnections } from '../infra/messaging/redis';
import type { Metrics } from '../infra/observability/metrics';
import type { FileStore } from '../infra/storage/file-store';

/** Who is calling, as proven by a verified access token. */
export interface AuthUser {
  id: string;
  email: string;
  role: Role;
  /** The refresh-token family (session) the access token belongs to. */
  sessionId?: string;
  /** Access token expiry (epoch seconds); WebSocket connections close when it passes. */
  expiresAt?: number;
}

/** Everything a resolver may use. One per HTTP request or per WebSocket operation. */
export interface AppContext {
  requestId: string;
  /** A fork of the EntityManager for this request: its identity map is not shared. */
  em: EntityManager;
  user: AuthUser | null;
  ip: string;
  userAgent: string;
  logger: Logger;
  services: Services;
  /** Per-request DataLoaders, created lazily by the modules that need them. */
  loaders: Map<string, unknown>;
  /** Aborted when the HTTP client goes away before its answer: long waits (`wait: true`) stop then. */
  signal?: AbortSignal;
}

/**
 * The process's services, built once at start by the composition root (src/app) and handed to
 * resolvers through the context. The infrastructure's are declared here; each feature module adds
 * its own by augmenting this interface in its `index.ts` (`declare module '.../schema/context'`),
 * so this layer names no feature.
 */
export interface Services {
  config: Config;
  db: Database;
  redis: RedisConnections | null;
  pubSub: PubSub;
  logger: Logger;
  metrics: Metrics;
  /** Turns the Authorization header into the caller (the accounts module provides it). */
  authenticate: Authenticator;
  /** Content-addressed files under DATA_DIR/files: images, derived copies, result maps. */
  files: FileStore;
  startedAt: Date;
}

/** Turns a bearer token into a user, or null for a missing token; throws for a bad one. */
export type Authenticator = (authorization: string | undefined) => Promise<AuthUser | null>;
