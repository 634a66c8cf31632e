import { Histogram, Registry } from 'prom-client';
import { histogramTotal, parsePromText } from '../../bench/peer/prom-text';
import { breakdown, readStageTotals, stageTotalsDelta } from '../../bench/peer/stages';

describe('the peer bench reading /metrics', () => {
  it('reads back what prom-client wrote: sum and count per label set, and summed over the rest', async () => {
    const registry = new Registry();
    const h = new Histogram({
      name: 'x_seconds',
      help: 'h',
      labelNames: ['kind', 'stage'],
      buckets: [0.01, 0.1],
      registers: [registry],
    });
    h.observe({ kind: 'classify', stage: 'model' }, 0.25);
    h.observe({ kind: 'classify', stage: 'model' }, 0.5);
    h.observe({ kind: 'classify', stage: 'persisted' }, 0.125);
    h.observe({ kind: 'segment', stage: 'model' }, 2);
    const samples = parsePromText(await registry.metrics());
    expect(histogramTotal(samples, 'x_seconds', { kind: 'classify', stage: 'model' })).toEqual({ sum: 0.75, count: 2 });
    expect(histogramTotal(samples, 'x_seconds', { kind: 'classify' })).toEqual({ sum: 0.875, count: 3 });
    expect(histogramTotal(samples, 'x_seconds')).toEqual({ sum: 2.875, count: 4 });
    expect(histogramTotal(samples, 'x_seconds', { kind: 'report' })).toEqual({ sum: 0, count: 0 });
    const inf = samples.find(
      (s) => s.name === 'x_seconds_bucket' && s.labels.le === '+Inf' && s.labels.kind === 'segment',
    );
    expect(inf?.value).toBe(1);
  });

  it('undoes label escapes, reads the special values, ignores comments and timestamps', () => {
    const text = [
      '# HELP a_total with "quotes"',
      '# TYPE a_total counter',
      'a_total{path="C:\\\\dir",msg="say \\"hi\\"\\nbye",} 3 1700000000000',
      'b +Inf',
      'c{} -Inf',
      'd NaN',
      'e 1.5e-3',
      '',
    ].join('\n');
    const [a, b, c, d, e] = parsePromText(text);
    expect(a).toEqual({ name: 'a_total', labels: { path: 'C:\\dir', msg: 'say "hi"\nbye' }, value: 3 });
    expect([b.value, c.value, d.value, e.value]).toEqual([Infinity, -Infinity, NaN, 0.0015]);
  });

  it('refuses a line it cannot read rather than guessing', () => {
    expect(() => parsePromText('a{x="1"')).toThrow(/bad labels/);
    expect(() => parsePromText('a{x=1} 2')).toThrow(/bad labels/);
    expect(() => parsePromText('a{x="\\t"} 2')).toThrow(/bad labels/);
    expect(() => parsePromText('a 1,5')).toThrow(/not a number/);
    expect(() => parsePromText('a')).toThrow(/not a number/);
    expect(() => parsePromText('{x="1"} 2')).toThrow(/no metric name/);
  });

  it('breaks a window down per request: the stages in the runner’s order, other = request - stages', () => {
    const metrics = (reqSum: number, reqCount: number, jobSum: number, stages: Array<[string, number, number]>) =>
      parsePromText(
        [
          `dermagraph_graphql_request_duration_seconds_sum{operation="BenchUpload",type="mutation"} ${reqSum}`,
          `dermagraph_graphql_request_duration_seconds_count{operation="BenchUpload",type="mutation"} ${reqCount}`,
          `dermagraph_inference_job_duration_seconds_sum{kind="classify",status="SUCCEEDED"} ${jobSum}`,
          `dermagraph_inference_job_duration_seconds_count{kind="classify",status="SUCCEEDED"} ${reqCount}`,
          // A failed job, a segmentation: not counted.
          'dermagraph_inference_job_duration_seconds_sum{kind="classify",status="FAILED"} 9',
          'dermagraph_inference_job_duration_seconds_count{kind="classify",status="FAILED"} 9',
          'dermagraph_inference_job_duration_seconds_sum{kind="segment",status="SUCCEEDED"} 9',
          'dermagraph_inference_job_duration_seconds_count{kind="segment",status="SUCCEEDED"} 9',
          // Another operation and another kind of job: not counted.
          'dermagraph_graphql_request_duration_seconds_sum{operation="login",type="mutation"} 9',
          'dermagraph_graphql_request_duration_seconds_count{operation="login",type="mutation"} 9',
          'dermagraph_inference_stage_duration_seconds_sum{kind="segment",stage="model"} 9',
          'dermagraph_inference_stage_duration_seconds_count{kind="segment",stage="model"} 9',
          ...stages.flatMap(([stage, sum, count]) => [
            `dermagraph_inference_stage_duration_seconds_sum{kind="classify",stage="${stage}"} ${sum}`,
            `dermagraph_inference_stage_duration_seconds_count{kind="classify",stage="${stage}"} ${count}`,
          ]),
        ].join('\n'),
      );
    // Before: one earlier request, with no preprocessing stage seen yet. After: 4 more, each 25 ms of which
    // 2 ms before preprocessing, 8 ms to the model's end, 1 ms to ensembling, 9 ms to the stored result, in a
    // job run of 22 ms.
    const before = readStageTotals(
      metrics(0.5, 1, 0.25, [
        ['persisted', 0.25, 1],
        ['model', 0.125, 1],
      ]),
      'BenchUpload',
    );
    const after = readStageTotals(
      metrics(0.6, 5, 0.338, [
        ['persisted', 0.286, 5],
        ['ensembling', 0.004, 4],
        ['model', 0.157, 5],
        ['preprocessing', 0.008, 4],
      ]),
      'BenchUpload',
    );
    const b = breakdown(stageTotalsDelta(before, after));
    expect(b.requests).toBe(4);
    expect(b.images).toBe(4);
    expect(b.requestMs).toBeCloseTo(25, 9);
    expect(b.stagesMs.map(([s]) => s)).toEqual(['preprocessing', 'model', 'ensembling', 'persisted']);
    expect(b.stagesMs.map(([, ms]) => ms).map((ms) => +ms.toFixed(9))).toEqual([2, 8, 1, 9]);
    expect(b.jobMs).toBeCloseTo(22, 9);
    expect(b.otherMs).toBeCloseTo(5, 9);
    expect(b.outsideJobMs).toBeCloseTo(3, 9);
  });
});
