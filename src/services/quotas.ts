import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../config';
import { AppError } from '../errors';
import { Image, Plan, Prediction, User } from '../entities';

export type QuotaKind = 'uploads' | 'predictions';

/** Start of the calendar month (UTC) that `now` falls in: quotas reset then. */
export function monthStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

/** Start of the next calendar month (UTC): when a spent quota comes back. */
export function nextMonthStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
}

/** A plan's monthly limits, from config. */
export function planQuota(config: Pick<Config, 'QUOTA_FREE_UPLOADS_PER_MONTH' | 'QUOTA_FREE_PREDICTIONS_PER_MONTH' | 'QUOTA_PRO_UPLOADS_PER_MONTH' | 'QUOTA_PRO_PREDICTIONS_PER_MONTH'>, plan: Plan): Record<QuotaKind, number> {
  return plan === Plan.PRO
    ? { uploads: config.QUOTA_PRO_UPLOADS_PER_MONTH, predictions: config.QUOTA_PRO_PREDICTIONS_PER_MONTH }
    : { uploads: config.QUOTA_FREE_UPLOADS_PER_MONTH, predictions: config.QUOTA_FREE_PREDICTIONS_PER_MONTH };
}

/** How many uploads / predictions `userId` made since the start of this month. */
export async function usedThisMonth(em: EntityManager, userId: string, kind: QuotaKind, now = new Date()): Promise<number> {
  const since = monthStart(now);
  return kind === 'uploads'
    ? em.count(Image, { uploadedBy: userId, createdAt: { $gte: since } })
    : em.count(Prediction, { owner: userId, createdAt: { $gte: since } });
}

/**
 * Refuses, with RATE_LIMITED (reason QUOTA_EXCEEDED, limit, used, resetsAt), an operation that
 * would take `userId` past its plan's monthly quota of `kind` by adding `adding` items.
 * The inference jobs call it with kind 'predictions' before queueing.
 */
export async function assertWithinQuota(em: EntityManager, config: Config, userId: string, kind: QuotaKind, adding = 1, now = new Date()): Promise<void> {
  const user = await em.findOne(User, { id: userId }, { fields: ['plan'] });
  const plan = user?.plan ?? Plan.FREE;
  const limit = planQuota(config, plan)[kind];
  const used = await usedThisMonth(em, userId, kind, now);
  if (used + adding > limit) {
    const resetsAt = nextMonthStart(now);
    throw new AppError('RATE_LIMITED', `Monthly ${kind} quota of the ${plan} plan reached (${used} of ${limit} used; ${adding} more asked)`, {
      reason: 'QUOTA_EXCEEDED',
      quota: kind,
      plan,
      limit,
      used,
      resetsAt: resetsAt.toISOString(),
      retryAfterSeconds: Math.max(1, Math.ceil((resetsAt.getTime() - now.getTime()) / 1000)),
    });
  }
}

/**
 * assertWithinQuota for use inside the transaction that inserts the counted rows: takes a per-user,
 * per-kind advisory lock first (held until commit), so concurrent requests cannot pass the quota together.
 */
export async function assertWithinQuotaLocked(tem: EntityManager, config: Config, userId: string, kind: QuotaKind, adding = 1, now = new Date()): Promise<void> {
  await tem.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`quota:${kind}:${userId}`]);
  await assertWithinQuota(tem, config, userId, kind, adding, now);
}
