import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../../infra/config';
import { AppError } from '../../infra/errors';
import { Image, Plan, PredictionUsage } from '../../entities';

export type QuotaKind = 'uploads' | 'predictions' | 'segmentations';

/** Start of the calendar month (UTC) that `now` falls in: quotas reset then. */
export function monthStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

/** Start of the next calendar month (UTC): when a spent quota comes back. */
export function nextMonthStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
}

type QuotaConfig = Pick<
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

/** Per result kind: its column of the month's usage row, and the kind of job that makes it. */
const RESULTS = {
  predictions: { column: 'count', job: 'CLASSIFY' },
  segmentations: { column: 'segmentations', job: 'SEGMENT' },
} as const;

/** YYYY-MM-DD of a UTC midnight. */
const isoDate = (d: Date) => d.toISOString().slice(0, 10);

/** How many uploads / predictions / segmentations `userId` made since the start of this month. */
export async function usedThisMonth(
  em: EntityManager,
  userId: string,
  kind: QuotaKind,
  now = new Date(),
): Promise<number> {
  const since = monthStart(now);
  if (kind === 'uploads') return em.count(Image, { uploadedBy: userId, createdAt: { $gte: since } });
  const usage = await em.findOne(PredictionUsage, { owner: userId, month: isoDate(since) });
  return (kind === 'predictions' ? usage?.count : usage?.segmentations) ?? 0;
}

/**
 * What counts against a monthly quota, as SQL over the user `u`: uploads made, or results
 * stored (the month's usage row: one read however many there are) plus the images of that
 * kind's jobs still queued or running (but not `exceptJobId`, the one being checked), so a burst
 * of jobs cannot overrun the quota before their results land.
 */
function countedSql(kind: QuotaKind, since: Date, exceptJobId: string): { sql: string; params: unknown[] } {
  if (kind === 'uploads')
    return { sql: `select count(*) from images where uploaded_by_id = u.id and created_at >= ?`, params: [since] };
  const { column, job } = RESULTS[kind];
  return {
    sql: `coalesce((select ${column} from prediction_usage where owner_id = u.id and month = ?::date), 0)
      + (select coalesce(sum(greatest(j.total - jsonb_array_length(j.result_ids), 0)), 0) from inference_jobs j
          where j.owner_id = u.id and j.kind = '${job}' and j.status in ('QUEUED', 'RUNNING') and j.id::text <> ?)`,
    params: [isoDate(since), exceptJobId],
  };
}

/**
 * Refuses, with RATE_LIMITED (reason QUOTA_EXCEEDED, limit, used, resetsAt), an operation that
 * would take `userId` past its plan's monthly quota of `kind` by adding `adding` items. One
 * statement reads the plan and the usage. `exceptJobId`: a job already recorded for these items
 * (its images are the `adding`, not part of the usage).
 */
export async function assertWithinQuota(
  em: EntityManager,
  config: Config,
  userId: string,
  kind: QuotaKind,
  adding = 1,
  now = new Date(),
  exceptJobId = '',
): Promise<void> {
  const counted = countedSql(kind, monthStart(now), exceptJobId);
  const rows = (await em.execute(`select u.plan, (${counted.sql})::int as used from users u where u.id = ?`, [
    ...counted.params,
    userId,
  ])) as Array<{ plan: Plan; used: number }>;
  const plan = rows[0]?.plan ?? Plan.FREE;
  const used = rows[0]?.used ?? 0;
  const limit = planQuota(config, plan)[kind];
  if (used + adding > limit) {
    const resetsAt = nextMonthStart(now);
    throw new AppError(
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
}

/**
 * assertWithinQuota for use inside the transaction that inserts the counted rows: takes a per-user,
 * per-kind advisory lock first (held until commit), so concurrent requests cannot pass the quota together.
 */
export async function assertWithinQuotaLocked(
  tem: EntityManager,
  config: Config,
  userId: string,
  kind: QuotaKind,
  adding = 1,
  now = new Date(),
): Promise<void> {
  await tem.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`quota:${kind}:${userId}`]);
  await assertWithinQuota(tem, config, userId, kind, adding, now);
}
