import type { EntityManager } from '@mikro-orm/postgresql';
import type { Role } from '../entities';
import type { Logger } from '../infra/observability/logger';
import type { Services } from '../app/services';

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
}

/** Turns a bearer token into a user, or null for a missing token; throws for a bad one. */
export type Authenticator = (authorization: string | undefined) => Promise<AuthUser | null>;
