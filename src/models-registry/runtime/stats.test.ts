import { LatencyReservoir, percentile, StatsCounter } from './stats';

describe('stats', () => {
  it('percentile is nearest-rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 95)).toBe(95);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });

  it('the reservoir keeps a bounded sample that still describes the stream', () => {
    let seed = 1;
    const rng = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const r = new LatencyReservoir(200, rng);
    for (let i = 1; i <= 10000; i++) r.add(i % 100); // uniform 0..99
    const q = r.quantiles();
    expect(q.p50!).toBeGreaterThanOrEqual(40);
    expect(q.p50!).toBeLessThanOrEqual(60);
    expect(q.p95!).toBeGreaterThanOrEqual(88);
  });

  it('counts requests and errors by image', () => {
    const s = new StatsCounter();
    s.record(10, true, 4);
    s.record(30, true);
    s.record(99, false, 2);
    expect(s.snapshot()).toEqual({ requests: 7, errors: 2, p50Ms: 10, p95Ms: 30 });
  });
});
