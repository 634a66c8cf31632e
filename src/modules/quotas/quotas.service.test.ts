import { Plan } from '../../entities/user';
import { monthStart, nextMonthStart, planQuota } from './quotas.service';

describe('quotas', () => {
  it('count calendar months in UTC', () => {
    expect(monthStart(new Date('2026-03-31T23:59:59Z')).toISOString()).toBe('2026-03-01T00:00:00.000Z');
    expect(nextMonthStart(new Date('2026-12-15T10:00:00Z')).toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });
  it("take each plan's limits from config", () => {
    const c = {
      QUOTA_FREE_UPLOADS_PER_MONTH: 1,
      QUOTA_FREE_PREDICTIONS_PER_MONTH: 2,
      QUOTA_FREE_SEGMENTATIONS_PER_MONTH: 5,
      QUOTA_PRO_UPLOADS_PER_MONTH: 3,
      QUOTA_PRO_PREDICTIONS_PER_MONTH: 4,
      QUOTA_PRO_SEGMENTATIONS_PER_MONTH: 6,
    };
    expect(planQuota(c, Plan.FREE)).toEqual({ uploads: 1, predictions: 2, segmentations: 5 });
    expect(planQuota(c, Plan.PRO)).toEqual({ uploads: 3, predictions: 4, segmentations: 6 });
  });
});
