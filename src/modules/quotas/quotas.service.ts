import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../../infra/config';
import { AppError } from '../../infra/errors';
import { Plan } from '../../entities';
import {
  countUploadsStatement,
  planAndUsage,
  QUOTA_REFUSED_SQLSTATE,
  quotaGuardStatement,
  quotaLockKey,
  usedSince,
  type PlanAndUsage,
  type QuotaKind,
} from './quotas.repository';
import { advisoryXactLocks, type Statement } from '../../infra/database/sql';

export type { QuotaKind } from './quotas.repository';

/** Start of the calendar month (UTC) that `now` falls in: quotas reset then. */
export function monthStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

/** Start of the next calendar month (UTC): when a spent quota comes back. */
export function nextMonthStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
}

export type QuotaConfig = Pick<
  Config,
  | 'QUOTA_FREE_UPLOADS_PER_MONTH'
  | 'QUOTA_FREE_PREDICTIONS_PER_MONTH'
  | 'QUOTA_FREE_SEGMENTATIONS_PER_MONTH'
  | 'QUOTA_PRO_UPLOADS_PER_MONTH'
  | 'QUOTA_PRO_PREDICTIONS_PER_MONTH'
  | 'QUOTA_PRO_SEGMENTATIONS_PER_MONTH'
>;

/** A plan's monthly limits, from config. */
export function planQuota(config: QuotaConfig, plan: Plan): Record<QuotaKind, number> {
  return plan === Plan.PRO
    ? {
        uploads: config.QUOTA_PRO_UPLOADS_PER_MONTH,
        predictions: config.QUOTA_PRO_PREDICTIONS_PER_MONTH,
        segmentations: config.QUOTA_PRO_SEGMENTATIONS_PER_MONTH,
      }
    : {
        uploads: config.QUOTA_FREE_UPLOADS_PER_MONTH,
        predictions: config.QUOTA_FREE_PREDICTIONS_PER_MONTH,
        segmentations: config.QUOTA_FREE_SEGMENTATIONS_PER_MONTH,
      };
}

/** How many uploads / predictions / segmentations `userId` made since the start of this month. */
export function usedThisMonth(em: EntityManager, userId: string, kind: QuotaKind, now = new Date()): Promise<number> {
  return usedSince(em, userId, kind, monthStart(now));
}

/**
 * The statement that counts `n` uploads made at `at` against the uploads quota: sent in the upload's own
 * transaction, after the uploads quota's lock and check (quotaGuard), so the images and their count land together
 * and the next upload's check, waiting on that lock, sees both.
 */
export function countUploads(userId: string, at: Date, n: number): Statement {
  return countUploadsStatement(userId, monthStart(at), n);
}

/** `adding` more items of `kind` asked of a quota. */
export interface QuotaAsk {
  kind: QuotaKind;
  adding: number;
}

/**
 * Refuses, with RATE_LIMITED (reason QUOTA_EXCEEDED, limit, used, resetsAt), an operation that
 * would take `userId` past its plan's monthly quota of `kind` by adding `adding` items. One
 * statement reads the plan and the usage. `exceptJobId`: a job already recorded for these items
 * (its images are the `adding`, not part of the usage).
 */
export function assertWithinQuota(
  em: EntityManager,
  config: QuotaConfig,
  userId: string,
  kind: QuotaKind,
  adding = 1,
  now = new Date(),
  exceptJobId = '',
): Promise<void> {
  return assertWithinQuotas(em, config, userId, [{ kind, adding }], now, exceptJobId);
}

/** assertWithinQuota for several kinds at once (one statement); the first exceeded, in order, is refused. */
export async function assertWithinQuotas(
  em: EntityManager,
  config: QuotaConfig,
  userId: string,
  asks: readonly QuotaAsk[],
  now = new Date(),
  exceptJobId = '',
): Promise<void> {
  if (asks.length === 0) return;
  const kinds = asks.map((a) => a.kind);
  judgeQuotas(config, asks, await planAndUsage(em, userId, kinds, monthStart(now), exceptJobId), now);
}

/** What quotaGuard gives the transaction that writes what the asks count. */
export interface QuotaGuard {
  /** The user's locks on the asked quotas, then the check (quotaGuardStatement): before the writes, in their batch. */
  statements: Statement[];
  /** The batch's error: the check's refusal as assertWithinQuotas answers it (RATE_LIMITED), anything else as it is. */
  refused(err: unknown): unknown;
  /** refused, thrown: the batch's promise's `.catch`. */
  rethrow(err: unknown): never;
}

/**
 * assertWithinQuotas, exact, for the batch that writes what it counts and commits: the quotas' locks and the check
 * travel with the writes, so a lock is held only while PostgreSQL runs the batch. Checked in this process between
 * two round trips instead, a lock was held across the round trip and whatever the request did in between, and one
 * account's concurrent uploads queued on it: at 8 at once, more than half of them were waiting on it at any time.
 */
export function quotaGuard(
  config: QuotaConfig,
  userId: string,
  asks: readonly QuotaAsk[],
  now = new Date(),
  exceptJobId = '',
): QuotaGuard {
  const limits = (kind: QuotaKind) => ({
    [Plan.FREE]: planQuota(config, Plan.FREE)[kind],
    [Plan.PRO]: planQuota(config, Plan.PRO)[kind],
  });
  const guarded = asks.map((a) => ({ ...a, limits: limits(a.kind) }));
  const guard: QuotaGuard = {
    statements: [
      advisoryXactLocks(asks.map((a) => quotaLockKey(userId, a.kind))),
      quotaGuardStatement(userId, guarded, monthStart(now), exceptJobId),
    ],
    refused(err) {
      const e = err as { code?: string; detail?: string };
      if (e?.code !== QUOTA_REFUSED_SQLSTATE || !e.detail) return err;
      const d = JSON.parse(e.detail) as { kind: QuotaKind; plan: Plan; limit: number; used: number; adding: number };
      return quotaExceeded(d.kind, d.plan, d.limit, d.used, d.adding, now);
    },
    rethrow(err) {
      throw guard.refused(err);
    },
  };
  return guard;
}

/** The first ask, in order, that would take its quota past the plan's limit is refused. */
function judgeQuotas(config: QuotaConfig, asks: readonly QuotaAsk[], { plan, used }: PlanAndUsage, now: Date): void {
  asks.forEach(({ kind, adding }, i) => {
    const limit = planQuota(config, plan)[kind];
    if (used[i] + adding > limit) throw quotaExceeded(kind, plan, limit, used[i], adding, now);
  });
}

function quotaExceeded(kind: QuotaKind, plan: Plan, limit: number, used: number, adding: number, now: Date): AppError {
  const resetsAt = nextMonthStart(now);
  return new AppError(
    'RATE_LIMITED',
    `Monthly ${kind} quota of the ${plan} plan reached (${used} of ${limit} used; ${adding} more asked)`,
    {
      reason: 'QUOTA_EXCEEDED',
      quota: kind,
      plan,
      limit,
      used,
      resetsAt: resetsAt.toISOString(),
      retryAfterSeconds: Math.max(1, Math.ceil((resetsAt.getTime() - now.getTime()) / 1000)),
    },
  );
}
