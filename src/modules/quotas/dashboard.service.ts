import type { EntityManager } from '@mikro-orm/postgresql';
import { notFound } from '../../infra/errors';
import { User, type Plan } from '../../entities';
import { nextMonthStart, planQuota, usedThisMonth, type QuotaConfig, type QuotaKind } from './quotas.service';
import { accountTotals } from './quotas.repository';

export interface QuotaUsage {
  limit: number;
  used: number;
  remaining: number;
  resetsAt: Date;
}

export interface Dashboard {
  email: string;
  createdAt: Date;
  lastLoginAt: Date | null;
  plan: Plan;
  totalUploads: number;
  totalPredictions: number;
  totalPatients: number;
  uploadQuota: QuotaUsage;
  predictionQuota: QuotaUsage;
  segmentationQuota: QuotaUsage;
}

/** The caller's account summary: totals over all time, quotas for this calendar month (UTC). */
export async function myDashboard(
  em: EntityManager,
  config: QuotaConfig,
  userId: string,
  now = new Date(),
): Promise<Dashboard> {
  const user = await em.findOne(User, { id: userId });
  if (!user) throw notFound('User');
  const quota = planQuota(config, user.plan);
  const usage = async (kind: QuotaKind): Promise<QuotaUsage> => {
    const used = await usedThisMonth(em, userId, kind, now);
    return { limit: quota[kind], used, remaining: Math.max(0, quota[kind] - used), resetsAt: nextMonthStart(now) };
  };
  const [totals, uploadQuota, predictionQuota, segmentationQuota] = await Promise.all([
    accountTotals(em, userId),
    usage('uploads'),
    usage('predictions'),
    usage('segmentations'),
  ]);
  return {
    email: user.email,
    createdAt: user.createdAt,
    lastLoginAt: user.lastLoginAt ?? null,
    plan: user.plan,
    totalUploads: totals.uploads,
    totalPredictions: totals.predictions,
    totalPatients: totals.patients,
    uploadQuota,
    predictionQuota,
    segmentationQuota,
  };
}
