import { randomUUID } from 'node:crypto';
import type { AppContext, AuthUser } from '../schema/context';
import type { Logger } from '../infra/observability/logger';
import type { Services } from '../schema/context';

export interface ContextInput {
  services: Services;
  user: AuthUser | null;
  ip: string;
  userAgent: string;
  requestId?: string;
  logger?: Logger;
  /**
   * Aborted when the client goes away (HTTP: the connection closed before the answer was sent;
   * WebSocket: the operation ended, the client completed it, or the socket closed).
   */
  signal?: AbortSignal;
}

/** One context per HTTP request or WebSocket operation, with its own EntityManager fork. */
export function buildContext(input: ContextInput): AppContext {
  const requestId = input.requestId ?? randomUUID();
  return {
    requestId,
    em: input.services.db.orm.em.fork(),
    user: input.user,
    ip: input.ip,
    userAgent: input.userAgent.slice(0, 512),
    logger: input.logger ?? input.services.logger.child({ reqId: requestId }),
    services: input.services,
    loaders: new Map(),
    signal: input.signal,
  };
}
