import type { batcherFor } from '../../src/modules/jobs/runner/batcher';
import { quantile, type Row } from '../harness';
import { histogram, stageRows, statementsPerImage } from './breakdown';
import {
  type BarePipeline,
  barePipeline,
  batcherOf,
  type BenchServer,
  classify,
  classifyMany,
  e2eJobId,
} from './fixture';
import { HEAVY, installHeavy } from './heavy';
import { finished, imagesPerSecond, loopsFor, merge, profiled, row, type Sample } from './sampling';
import { BATCH, CONCURRENCIES, FULL, HEAVY_MODELS, MODEL, ONLY_ROWS, ROUNDS, SECONDS } from './settings';

/** The bench's table so far and its headline ratios, filled in the order they are printed. */
export interface Results {
  rows: Row[];
  ratios: Record<string, number>;
}

type Pipeline = { name: string; key: string | null; images: number; once: (i: number) => Promise<void> };

/**
 * Each e2e row is measured in ROUNDS short segments, each right after a segment of the bare
 * pipeline, and its ratio is the median of the segments' ratios: load from elsewhere on a
 * shared machine then falls on both sides of a ratio alike.
 */
async function againstBare(
  results: Results,
  c: number,
  prefix: string,
  bareOnce: (i: number) => Promise<void>,
  modelBatcher: ReturnType<typeof batcherFor>,
  pipelines: Pipeline[],
): Promise<void> {
  const { rows, ratios } = results;
  const bareSamples: Sample[] = [];
  const measured = pipelines.map(() => ({
    samples: [] as Sample[],
    ratios: [] as number[],
    batches: 0,
    batched: 0,
  }));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [k, p] of pipelines.entries()) {
      const warmup = round === 0 ? (p.images > 1 ? 2 : 10) : 0;
      const b = await loopsFor(c, bareOnce, SECONDS / ROUNDS, round === 0 && k === 0 ? 10 : 0);
      const before = { ...modelBatcher.stats };
      const e = await profiled(`${prefix}${p.name} c${c} r${round}`, () =>
        loopsFor(c, p.once, SECONDS / ROUNDS, warmup),
      );
      bareSamples.push(b);
      measured[k].samples.push(e);
      measured[k].ratios.push(imagesPerSecond(e) / imagesPerSecond(b));
      measured[k].batches += modelBatcher.stats.batches - before.batches;
      measured[k].batched += modelBatcher.stats.images - before.images;
    }
  }
  rows.push(row(`${prefix}bare: sharp + session.run`, c, merge(bareSamples)));
  for (const [k, p] of pipelines.entries()) {
    const m = measured[k];
    rows.push({
      ...row(`${prefix}${p.name}`, c, merge(m.samples)),
      'images per session run': m.batches ? m.batched / m.batches : null,
    });
    if (p.key) ratios[`${prefix}throughput ratio e2e/bare at concurrency ${c}, ${p.key}`] = quantile(m.ratios, 0.5);
  }
}

/**
 * The e2e classification rows against the bare pipeline at each concurrency (with the stage
 * breakdown and SQL statements per image), then the same with the realistic-size classifiers.
 */
export async function classificationRows(bench: BenchServer, shipped: BarePipeline, results: Results): Promise<void> {
  const { server, url, token, imageIds, batchImageIds, split, e2e } = bench;
  const { rows, ratios } = results;
  // The API's own floor: an authenticated GraphQL query over HTTP that reads one row.
  const probe = await e2eJobId(url, token, classify, {
    imageId: imageIds[0],
    models: [{ model: MODEL }],
    explain: false,
  });
  const floor = async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'query($id: ID!) { job(id: $id) { id status } }', variables: { id: probe } }),
    });
    await res.json();
    finished.images++; // a request, for the floor's row
  };
  const stageHist = histogram(server, 'dermagraph_inference_stage_duration_seconds');
  const jobHist = histogram(server, 'dermagraph_inference_job_duration_seconds');
  const breakdown: Row[] = [];
  const single =
    (explain: boolean, model = MODEL) =>
    (i: number) =>
      e2e(classify, { imageId: imageIds[i % imageIds.length], models: [{ model }], explain });
  const batchOf = (i: number, size = BATCH) =>
    Array.from({ length: size }, (_, k) => batchImageIds[(i * size + k) % batchImageIds.length]);
  const many =
    (explain: boolean, size = BATCH, model = MODEL) =>
    (i: number) =>
      e2e(classifyMany, { imageIds: batchOf(i, size), models: [{ model }], explain });
  const batcher = batcherOf(server, MODEL);
  for (const c of CONCURRENCIES) {
    // Where one classification's time goes, in a pass of its own (no other row's jobs in the histograms).
    if (!ONLY_ROWS) {
      split.replyMs.length = split.doneMs.length = 0;
      stageHist.reset();
      jobHist.reset();
      await loopsFor(c, single(false));
      breakdown.push(...(await stageRows(c, split, stageHist, jobHist)));
    }
    ratios[`SQL statements per image at concurrency ${c}, classifyImage`] = await statementsPerImage(
      server,
      c,
      1,
      single(false),
    );
    ratios[`SQL statements per image at concurrency ${c}, classifyImages x${BATCH}`] = await statementsPerImage(
      server,
      c,
      BATCH,
      many(false),
    );
    const pipelines: Pipeline[] = [
      {
        name: 'e2e classifyImage (explain=false)',
        key: 'classifyImage (explain=false)',
        images: 1,
        once: single(false),
      },
      { name: 'e2e classifyImage (Grad-CAM)', key: 'classifyImage (Grad-CAM)', images: 1, once: single(true) },
      {
        name: `e2e classifyImages x${BATCH} (explain=false)`,
        key: `classifyImages x${BATCH} (explain=false)`,
        images: BATCH,
        once: many(false),
      },
      {
        name: `e2e classifyImages x${BATCH} (Grad-CAM)`,
        key: `classifyImages x${BATCH} (Grad-CAM)`,
        images: BATCH,
        once: many(true),
      },
      {
        name: `e2e classifyImages x${FULL}, a full call (explain=false)`,
        key: `classifyImages x${FULL} (explain=false)`,
        images: FULL,
        once: many(false, FULL),
      },
      { name: 'API floor: job(id) query over HTTP', key: null, images: 1, once: floor },
    ].filter((p) => !ONLY_ROWS || ONLY_ROWS.some((r) => p.name.includes(r)));
    await againstBare(results, c, '', shipped.once, batcher, pipelines);
  }

  rows.push(...breakdown);

  // The same comparison with classifiers of realistic size (the fixed per-job cost matters less).
  for (const h of HEAVY_MODELS ? HEAVY : []) {
    const skipped = await installHeavy(server, h.arch, h.name);
    if (skipped) {
      process.stderr.write(`inference bench: skipping the ${h.arch} rows: ${skipped}\n`);
      continue;
    }
    const hb = await barePipeline(bench, h.name);
    for (const c of CONCURRENCIES) {
      await againstBare(results, c, `${h.arch}: `, hb.once, batcherOf(server, h.name), [
        {
          name: 'e2e classifyImage (explain=false)',
          key: 'classifyImage (explain=false)',
          images: 1,
          once: single(false, h.name),
        },
        {
          name: `e2e classifyImages x${BATCH} (explain=false)`,
          key: `classifyImages x${BATCH} (explain=false)`,
          images: BATCH,
          once: many(false, BATCH, h.name),
        },
      ]);
    }
    await hb.session.release();
  }
}
