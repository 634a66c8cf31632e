import type { EntityManager } from '@mikro-orm/postgresql';
import { JobKind, JobStatus, Plan, PredictionUsage } from '../../entities';
import { uuidArray, type Statement } from '../../infra/database/sql';
import { coalescedRead } from '../../infra/database/coalesced-reads';

export type QuotaKind = 'uploads' | 'predictions' | 'segmentations';

/** Per quota: its column of the month's usage row (prediction_usage). */
const USAGE_COLUMN: Record<QuotaKind, 'uploads' | 'count' | 'segmentations'> = {
  uploads: 'uploads',
  predictions: 'count',
  segmentations: 'segmentations',
};

/** Per result kind: the kind of job that makes it. */
const RESULTS = {
  predictions: { job: JobKind.CLASSIFY },
  segmentations: { job: JobKind.SEGMENT },
} as const;

/** YYYY-MM-DD of a UTC midnight. */
const isoDate = (d: Date) => d.toISOString().slice(0, 10);

/**
 * What counts against a monthly quota, as SQL over the user `u`: the month's usage row (one read
 * however many there are) of uploads made or results stored; for results, plus the images of that
 * kind's jobs still queued or running (but not `exceptJobId`, the one being checked), so a burst
 * of jobs cannot overrun the quota before their results land.
 */
function countedSql(kind: QuotaKind, since: Date, exceptJobId: string): { sql: string; params: unknown[] } {
  const usage = `coalesce((select ${USAGE_COLUMN[kind]} from prediction_usage where owner_id = u.id and month = ?::date), 0)`;
  if (kind === 'uploads') return { sql: usage, params: [isoDate(since)] };
  const { job } = RESULTS[kind];
  return {
    sql: `${usage}
      + (select coalesce(sum(greatest(j.total - jsonb_array_length(j.result_ids), 0)), 0) from inference_jobs j
          where j.owner_id = u.id and j.kind = '${job}' and j.status in ('${JobStatus.QUEUED}', '${JobStatus.RUNNING}') and j.id::text <> ?)`,
    params: [isoDate(since), exceptJobId],
  };
}

/**
 * The user's plan and what it has used of each of `kinds` since `since`, in one statement (FREE and
 * 0 for no such user).
 */
export async function planAndUsage(
  em: EntityManager,
  userId: string,
  kinds: readonly QuotaKind[],
  since: Date,
  exceptJobId: string,
): Promise<PlanAndUsage> {
  return readPlanAndUsage(await coalescedRead(em, planAndUsageStatement(userId, kinds, since, exceptJobId)), kinds);
}

export interface PlanAndUsage {
  plan: Plan;
  used: number[];
}

/** planAndUsage's statement, for a caller that sends it in a batch of its own. */
export function planAndUsageStatement(
  userId: string,
  kinds: readonly QuotaKind[],
  since: Date,
  exceptJobId: string,
): Statement {
  const counted = kinds.map((kind) => countedSql(kind, since, exceptJobId));
  const columns = counted.map((c, i) => `(${c.sql})::int as used${i}`).join(', ');
  return {
    sql: `select u.plan, ${columns} from users u where u.id = ?`,
    params: [...counted.flatMap((c) => c.params), userId],
  };
}

/** planAndUsageStatement's rows read (FREE and 0 for no such user). */
export function readPlanAndUsage(rows: readonly Record<string, unknown>[], kinds: readonly QuotaKind[]): PlanAndUsage {
  const row = rows[0] as (Record<string, number> & { plan: Plan }) | undefined;
  return { plan: row?.plan ?? Plan.FREE, used: kinds.map((_, i) => row?.[`used${i}`] ?? 0) };
}

/** SQLSTATE of the error dermagraph_refuse_quota raises (migration 20261207100000): a quota refused by quotaGuardStatement. */
export const QUOTA_REFUSED_SQLSTATE = 'QT001';

/** An ask of a quota with the limit it has under each plan. */
export interface GuardedAsk {
  kind: QuotaKind;
  adding: number;
  limits: Record<Plan, number>;
}

/**
 * A statement that answers nothing while every ask fits in its quota under the user's plan, and fails
 * (QUOTA_REFUSED_SQLSTATE, the figures as JSON in the error's detail) for the first, in order, that does not.
 * It is the check of planAndUsageStatement made inside the batch that goes on to write what it counts: sent after
 * the quotas' locks, with the writes and the commit, it needs no answer from this process before they run.
 */
export function quotaGuardStatement(
  userId: string,
  asks: readonly GuardedAsk[],
  since: Date,
  exceptJobId: string,
): Statement {
  const rows = asks.map((a, i) => {
    const counted = countedSql(a.kind, since, exceptJobId);
    return {
      sql: `(${i}, ?::text, (${counted.sql})::int, ?::int, case u.plan when '${Plan.PRO}' then ?::int else ?::int end)`,
      params: [a.kind, ...counted.params, a.adding, a.limits[Plan.PRO], a.limits[Plan.FREE]],
    };
  });
  return {
    sql: `select dermagraph_refuse_quota(x.kind, x.plan, x.quota_limit, x.used, x.adding) from (
        select a.kind, u.plan::text as plan, a.quota_limit, a.used, a.adding from users u
        cross join lateral (values ${rows.map((r) => r.sql).join(', ')}) as a(i, kind, used, adding, quota_limit)
        where u.id = ? and a.used + a.adding > a.quota_limit order by a.i limit 1) as x`,
    params: [...rows.flatMap((r) => r.params), userId],
  };
}

/**
 * The advisory-lock key of a user's quota of `kind`: a transaction that inserts counted rows takes it
 * (until it ends) before checking the quota again, so concurrent requests cannot pass it together.
 */
export const quotaLockKey = (userId: string, kind: QuotaKind): string => `quota:${kind}:${userId}`;

/** Uploads, predictions or segmentations made by `userId` since `since` (a month's start). */
export async function usedSince(em: EntityManager, userId: string, kind: QuotaKind, since: Date): Promise<number> {
  const usage = await em.findOne(PredictionUsage, { owner: userId, month: isoDate(since) });
  return usage?.[USAGE_COLUMN[kind]] ?? 0;
}

/**
 * The statement that counts `n` uploads made by `userId` in the month starting `month` in its usage row
 * (quotas.service's countUploads says when it is sent).
 */
export function countUploadsStatement(userId: string, month: Date, n: number): Statement {
  return {
    sql: `insert into prediction_usage (owner_id, month, uploads) values (?, ?::date, ?)
      on conflict (owner_id, month) do update set uploads = prediction_usage.uploads + excluded.uploads`,
    params: [userId, isoDate(month), n],
  };
}

/**
 * Images uploaded, predictions asked for and patients created by `userId`, over all time, in one statement. The
 * first two are the sums of the account's monthly usage rows (the ledger the quotas read, moved on in the same
 * statements that store the images and predictions): a row per month, where counting the rows themselves cost
 * the dashboard of an account with a busy month (20000 of each) 5.8 times a fresh account's PostgreSQL CPU.
 */
export async function accountTotals(
  em: EntityManager,
  userId: string,
): Promise<{ uploads: number; predictions: number; patients: number }> {
  const [totals] = (await em.execute(
    `select coalesce(sum(pu.uploads), 0)::int as uploads, coalesce(sum(pu.count), 0)::int as predictions,
       (select count(*) from patients p where p.owner_id = ?)::int as patients
     from prediction_usage pu where pu.owner_id = ?`,
    [userId, userId],
  )) as Array<{ uploads: number; predictions: number; patients: number }>;
  return totals;
}

/** What an account used in the month from `since`: the figures its usage row holds, and its reports still kept. */
export interface MonthUsage {
  uploads: number;
  predictions: number;
  segmentations: number;
  reports: number;
}

/**
 * The month's use of many accounts in one statement: uploads, predictions and segmentations from the month's
 * usage row (the figures the quota checks read), reports counted on their (owner, created_at) index. Every id
 * has an entry (zeros for an account that used nothing).
 */
export async function monthUsageOf(
  em: EntityManager,
  userIds: readonly string[],
  since: Date,
): Promise<Map<string, MonthUsage>> {
  const rows = (await em.execute(
    `select u.id,
        coalesce(pu.uploads, 0)::int as uploads,
        coalesce(pu.count, 0)::int as predictions,
        coalesce(pu.segmentations, 0)::int as segmentations,
        (select count(*) from reports r where r.owner_id = u.id and r.created_at >= ?)::int as reports
      from users u left join prediction_usage pu on pu.owner_id = u.id and pu.month = ?::date
      where u.id = any(?::uuid[])`,
    [since, isoDate(since), uuidArray(userIds)],
  )) as Array<MonthUsage & { id: string }>;
  const byId = new Map(rows.map(({ id, ...usage }) => [id, usage]));
  const none: MonthUsage = { uploads: 0, predictions: 0, segmentations: 0, reports: 0 };
  return new Map(userIds.map((id) => [id, byId.get(id) ?? none]));
}
