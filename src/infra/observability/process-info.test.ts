import { createHistogram } from 'node:perf_hooks';
import { LoopDelayMonitor, loopDelayFigures } from './process-info';

const ms = (n: number) => Math.round(n * 1e6);

describe('loopDelayFigures', () => {
  it("takes the sampling interval off perf_hooks' figures: an idle loop reads 0, a 200 ms block 200 ms", () => {
    // What monitorEventLoopDelay({ resolution: 20 }) records: the time between ticks, interval included.
    const h = createHistogram();
    for (let i = 0; i < 98; i++) h.record(ms(20.5));
    h.record(ms(23));
    h.record(ms(220));
    const f = loopDelayFigures(h, 20);
    expect(f.p50Ms).toBeCloseTo(0.5, 1);
    expect(f.p99Ms).toBeCloseTo(3, 1);
    expect(f.maxMs).toBeCloseTo(200, 0);
    expect(f.meanMs).toBeCloseTo((98 * 0.5 + 3 + 200) / 100, 1);
  });

  it('never reads below 0 (a tick a little early), and an empty histogram reads 0', () => {
    const early = createHistogram();
    early.record(ms(19.2));
    expect(loopDelayFigures(early, 20)).toEqual({ meanMs: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 });
    // perf_hooks answers NaN for an empty histogram's mean.
    const empty = { mean: NaN, max: 0, percentile: () => 0 };
    expect(loopDelayFigures(empty, 20)).toEqual({ meanMs: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 });
  });
});

describe('LoopDelayMonitor', () => {
  it('reports a window of the real loop in those terms: a 300 ms block shows as its longest delay', async () => {
    const monitor = new LoopDelayMonitor();
    try {
      await new Promise((r) => setTimeout(r, 100));
      const until = Date.now() + 300;
      while (Date.now() < until); // the loop held for 300 ms
      await new Promise((r) => setTimeout(r, 100));
      const w = monitor.take();
      // At least the block itself (the interval taken off); the interval would make it 320 or more.
      expect(w.maxMs).toBeGreaterThanOrEqual(280);
      expect(w.windowSeconds).toBeGreaterThan(0);
    } finally {
      monitor.stop();
    }
  });
});
