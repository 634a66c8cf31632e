import { Registry } from 'prom-client';
import { RegistryMetrics } from '../../models-registry';
import { memoryHashes } from './shared-hashes';
import { quantileOf, UsageLedger } from './usage-ledger';

describe('quantileOf', () => {
  it('interpolates within the range holding the rank, and answers the highest bound above it', () => {
    expect(quantileOf([], 0.5)).toBeNull();
    expect(quantileOf([{ lower: 0.01, upper: 0.02, count: 10 }], 0.5)).toBeCloseTo(0.015);
    const two = [
      { lower: 0, upper: 0.01, count: 50 },
      { lower: 0.05, upper: 0.1, count: 50 },
    ];
    expect(quantileOf(two, 0.5)).toBeCloseTo(0.01);
    expect(quantileOf(two, 0.9)).toBeCloseTo(0.09);
    expect(quantileOf([{ lower: 5, upper: Infinity, count: 3 }], 0.95)).toBe(5);
  });
});

describe('UsageLedger', () => {
  it('sums what several processes flushed into shared buckets, counting each run once', async () => {
    const hashes = memoryHashes();
    const processes = [new Registry(), new Registry()].map((r) => ({
      m: new RegistryMetrics(r),
      ledger: new UsageLedger(hashes, r),
    }));
    const [a, b] = processes;
    const now = Date.parse('2026-12-02T10:30:30Z');
    a.m.observeRun('clf', '1.0.0', 'cpu', 0.02, 1, true);
    a.m.observeRun('clf', '1.0.0', 'cpu', 0.02, 1, true);
    await a.ledger.flush(now);
    await a.ledger.flush(now); // nothing new: nothing added
    b.m.observeRun('clf', '1.0.0', 'cpu', 0.2, 2, true);
    b.m.observeRun('clf', '1.0.0', 'cpu', 0.2, 1, false);
    b.m.observeRun('seg', '2.0.0', 'cuda:0', 1.5, 1, true);
    await b.ledger.flush(now + 1000);
    const report = await a.ledger.report(new Date(now - 60_000), new Date(now + 60_000), now);
    expect(report.resolution).toBe('minute');
    const clf = report.versions.find((v) => v.model === 'clf')!;
    expect(clf).toMatchObject({ version: '1.0.0', requests: 5, failures: 1 });
    // Three successful runs: two in (0.01, 0.025] s, one in (0.1, 0.25] s.
    expect(clf.p50Ms).toBeGreaterThan(10);
    expect(clf.p50Ms).toBeLessThanOrEqual(25);
    expect(clf.p95Ms).toBeGreaterThan(100);
    expect(clf.p95Ms).toBeLessThanOrEqual(250);
    expect(report.versions.find((v) => v.model === 'seg')).toMatchObject({ requests: 1, failures: 0 });
    // A window before the runs sees none; a week's window reads hour buckets.
    expect((await a.ledger.report(new Date(now - 3 * 60_000), new Date(now - 2 * 60_000), now)).versions).toEqual([]);
    const week = await a.ledger.report(new Date(now - 7 * 86400_000), new Date(now + 3600_000), now);
    expect(week.resolution).toBe('hour');
    expect(week.versions.find((v) => v.model === 'clf')).toMatchObject({ requests: 5, failures: 1 });
  });
});
