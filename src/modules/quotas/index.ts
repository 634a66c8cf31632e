/** The quotas module: each plan's monthly limits, the checks that enforce them, and the caller's dashboard. */
export {
  assertWithinQuota,
  assertWithinQuotas,
  countUploads,
  quotaGuard,
  type QuotaGuard,
  type QuotaAsk,
  monthStart,
  nextMonthStart,
  planQuota,
  type QuotaConfig,
  type QuotaKind,
} from './quotas.service';
export { monthUsageOf, type MonthUsage } from './quotas.repository';
export { QuotasResolver } from './quotas.resolver';
