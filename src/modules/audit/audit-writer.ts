import type { EntityManager } from '@mikro-orm/postgresql';
import { AuditLog } from '../../entities';
import { currentRequestId } from '../../infra/observability/request-scope';
import type { AuditAction } from './audit-action';

/** Where a call came from, for the audit log. */
export interface RequestMeta {
  ip: string;
  userAgent: string;
  /** The request's id; unset: the one of the request (or job) running now, if any. */
  requestId?: string;
}

export interface AuditEntry {
  /** The account concerned. */
  userId?: string | null;
  /** The admin who acted, when not the user. */
  actorId?: string | null;
  success: boolean;
  meta?: RequestMeta;
  details?: Record<string, unknown>;
}

/**
 * Writes one audit row with the caller's EntityManager: inside the caller's transaction when it is
 * in one (the row commits or rolls back with the change, and no second connection is needed), a
 * single statement otherwise. Never forks: a fork inside a transaction deadlocked the embedded
 * database. A failure that must be kept although the operation rolls back is audited by the
 * caller after the transaction, with its own (non-transactional) EntityManager.
 */
export type AuditWriter = (em: EntityManager, action: AuditAction, entry: AuditEntry) => Promise<void>;

export interface AuditLogger {
  error(o: object, m?: string): void;
}

export function createAuditWriter(logger: AuditLogger, now: () => Date = () => new Date()): AuditWriter {
  return async (em, action, e) => {
    const row = new AuditLog();
    row.action = action;
    row.userId = e.userId ?? null;
    row.actorId = e.actorId ?? null;
    row.success = e.success;
    row.ip = e.meta?.ip || null;
    row.userAgent = e.meta?.userAgent ? e.meta.userAgent.slice(0, 512) : null;
    row.details = e.details ?? null;
    row.requestId = e.meta?.requestId ?? currentRequestId() ?? null;
    row.createdAt = now();
    row.updatedAt = row.createdAt;
    try {
      // A plain insert: it does not flush (or wait for) the caller's other pending changes.
      await em.insert(AuditLog, row);
    } catch (err) {
      // In a transaction the statement's failure aborts it: the operation fails as a whole.
      if (em.isInTransaction()) throw err;
      logger.error({ err, action }, 'audit write failed');
    }
  };
}
