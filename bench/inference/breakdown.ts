import type { RunningServer } from '../../src/app/start';
import { mean, quantile, type Row } from '../harness';
import { E2E_ONLY } from './settings';

export type HistogramLike = {
  get(): Promise<{ values: Array<{ metricName?: string; labels: Record<string, string | number>; value: number }> }>;
};

/**
 * Where one e2e classification's time goes (means per job, explain=false): the client's wait for
 * the mutation's reply and then for `done`, and the job's own stages from its Prometheus histograms
 * (each stage: time since the previous report, so they add up to the image's run).
 */
export async function stageRows(
  c: number,
  split: { replyMs: number[]; doneMs: number[] },
  stages: HistogramLike,
  jobs: HistogramLike,
): Promise<Row[]> {
  const sums = new Map<string, { sum: number; count: number }>();
  const collect = (
    values: Awaited<ReturnType<HistogramLike['get']>>['values'],
    key: (l: Record<string, string | number>) => string | null,
  ) => {
    for (const v of values) {
      const k = key(v.labels);
      if (!k) continue;
      const s = sums.get(k) ?? { sum: 0, count: 0 };
      if (v.metricName?.endsWith('_sum')) s.sum += v.value;
      else if (v.metricName?.endsWith('_count')) s.count += v.value;
      sums.set(k, s);
    }
  };
  collect((await stages.get()).values, (l) => (l.kind === 'classify' ? `job stage: ${l.stage}` : null));
  collect((await jobs.get()).values, (l) =>
    l.kind === 'classify' && l.status === 'SUCCEEDED' ? 'job run (claim to done, all stages)' : null,
  );
  const rows: Row[] = [
    {
      pipeline: `breakdown c=${c}: client, mutation until its reply`,
      concurrency: c,
      'img/s': null,
      'p50 ms': quantile(split.replyMs, 0.5),
      'mean ms': mean(split.replyMs),
      n: split.replyMs.length,
    },
    {
      pipeline: `breakdown c=${c}: client, reply until done event`,
      concurrency: c,
      'img/s': null,
      'p50 ms': quantile(split.doneMs, 0.5),
      'mean ms': mean(split.doneMs),
      n: split.doneMs.length,
    },
  ];
  for (const [k, s] of sums)
    rows.push({
      pipeline: `breakdown c=${c}: ${k}`,
      concurrency: c,
      'img/s': null,
      'p50 ms': null,
      'mean ms': s.count ? (1000 * s.sum) / s.count : null,
      n: s.count,
    });
  return rows;
}

/** One of the server's Prometheus histograms, by name. */
export function histogram(server: RunningServer, name: string) {
  return server.services.metrics.registry.getSingleMetric(name) as unknown as HistogramLike & { reset(): void };
}

/** SQL statements per image (mutation + run) over 16 more calls of `once` at concurrency `c`; E2E_ONLY prints them. */
export async function statementsPerImage(
  server: RunningServer,
  c: number,
  imagesPerCall: number,
  once: (i: number) => Promise<void>,
): Promise<number> {
  const knex = server.services.db.orm.em.getConnection().getKnex();
  const seen = new Map<string, number>();
  const onQuery = (q: { sql: string }) => seen.set(q.sql.slice(0, 120), (seen.get(q.sql.slice(0, 120)) ?? 0) + 1);
  knex.on('query', onQuery);
  const CALLS = 16;
  let next = 0;
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (next < CALLS) await once(next++);
    }),
  );
  knex.removeListener('query', onQuery);
  const images = CALLS * imagesPerCall;
  if (E2E_ONLY) for (const [sql, n] of seen) console.log(`${(n / images).toFixed(2)}  ${sql}`);
  return [...seen.values()].reduce((a, b) => a + b, 0) / images;
}
