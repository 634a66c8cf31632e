import { mean, quantile, report, type Row } from './harness';
import { classificationRows, type Results } from './inference/classification';
import { barePipeline, type BenchServer, segment, startBench } from './inference/fixture';
import { gradCamCost } from './inference/gradcam-cost';
import { loopsFor, merge, row, type Sample } from './inference/sampling';
import { E2E_ONLY, MODEL, ROUNDS, SECONDS } from './inference/settings';

/**
 * End-to-end inference through the server vs the bare pipeline, in one process:
 * - e2e: classifyImage over HTTP GraphQL (auth, checks, quota, job row, in-process queue,
 *   preprocessing, dynamic batching, run, persist, progress event) until its `done` event;
 * - bare: sharp decode + resize + normalise and onnxruntime-node session.run in a loop, same
 *   model and threads, same number of concurrent loops.
 * Also Grad-CAM's cost against the inference it explains, and a two-member segmentation
 * ensemble against its slowest member.
 */
export async function inferenceBench(): Promise<void> {
  const bench = await startBench();
  try {
    const shipped = await barePipeline(bench, MODEL);
    const results: Results = { rows: [], ratios: {} };
    await classificationRows(bench, shipped, results);
    const { rows, ratios } = results;
    if (E2E_ONLY) {
      console.table(rows);
      console.table(ratios);
      return;
    }
    const { inferMs, camMs, mathMs, pngMs } = await gradCamCost(bench, shipped, rows);
    await shipped.session.release();
    const { ensemble, slowest } = await segmentationRows(bench, rows);

    report({
      bench: 'inference',
      description: `end-to-end classifyImage / classifyImages (${MODEL}) vs the bare pipeline in the same process and run: each e2e row is ${ROUNDS} windows of ${(SECONDS / ROUNDS).toFixed(1)} s, each right after a window of the bare pipeline, and its ratio is the median of the windows' ratios; Grad-CAM cost; segmentation ensemble vs its slowest member`,
      rows,
      summary: {
        ...ratios,
        'Grad-CAM overhead in the job, % of inference (p50)': (100 * quantile(camMs, 0.5)) / quantile(inferMs, 0.5),
        'Grad-CAM math only, % of inference (p50)': (100 * quantile(mathMs, 0.5)) / quantile(inferMs, 0.5),
        'heatmap PNG on first request, % of inference (p50)': (100 * quantile(pngMs, 0.5)) / quantile(inferMs, 0.5),
        'Grad-CAM overhead in the job, % of inference (mean)': (100 * mean(camMs)) / mean(inferMs),
        'ensemble p50 / slowest member p50': quantile(ensemble.latencies, 0.5) / slowest,
      },
    });
  } finally {
    await bench.stop();
  }
}

/**
 * Two-member segmentation ensemble vs each member alone (e2e, one image per job, one at a time).
 * Interleaved rounds so load from elsewhere on the machine falls on all three alike.
 */
async function segmentationRows(bench: BenchServer, rows: Row[]): Promise<{ ensemble: Sample; slowest: number }> {
  const { e2e, imageIds } = bench;
  const seg = (members: Array<{ model: string }>) =>
    loopsFor(1, (i) => e2e(segment, { imageIds: [imageIds[i % imageIds.length]], members }), SECONDS / ROUNDS);
  const runs: Sample[][] = [[], [], []];
  for (let round = 0; round < ROUNDS; round++) {
    runs[0].push(await seg([{ model: 'dg-seg-stats' }]));
    runs[1].push(await seg([{ model: 'dg-seg-skin-distance' }]));
    runs[2].push(await seg([{ model: 'dg-seg-stats' }, { model: 'dg-seg-skin-distance' }]));
  }
  const [a, bm, both] = runs.map(merge);
  rows.push(
    row('e2e segment dg-seg-stats', 1, a),
    row('e2e segment dg-seg-skin-distance', 1, bm),
    row('e2e segment ensemble of both', 1, both),
  );
  return { ensemble: both, slowest: Math.max(quantile(a.latencies, 0.5), quantile(bm.latencies, 0.5)) };
}
