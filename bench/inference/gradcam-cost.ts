import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { featureMapAt } from '../../src/inference/cam-map';
import { gradCam, loadGradCamHead } from '../../src/inference/gradcam';
import { batchShape, imageToTensor } from '../../src/inference/preprocess';
import { heatmapPng } from '../../src/inference/render';
import { decodeMap, encodeMap } from '../../src/modules/jobs/cam-map-file';
import { quantile, type Row } from '../harness';
import type { BarePipeline, BenchServer } from './fixture';

/** Milliseconds per image of each step, after 20 warm-up images. */
export interface GradCamTimings {
  inferMs: number[];
  camMs: number[];
  mathMs: number[];
  pngMs: number[];
  storeMs: number[];
}

/** Grad-CAM's own cost vs the inference it explains (same image, same session, one at a time). */
export async function gradCamCost(bench: BenchServer, shipped: BarePipeline, rows: Row[]): Promise<GradCamTimings> {
  const { manifest: m, file: modelPath, session } = shipped;
  const { server, bytes } = bench;
  const features = m.outputs.find((o) => o.role === 'gradcam_features')!.name;
  const logits = m.outputs.find((o) => o.role === 'logits')!.name;
  const plan = loadGradCamHead(await readFile(modelPath), features, logits);
  if (!plan.differentiable) throw new Error(plan.reason);
  const t: GradCamTimings = { inferMs: [], camMs: [], mathMs: [], pngMs: [], storeMs: [] };
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    const { tensor } = await imageToTensor(bytes[i % bytes.length], m.input);
    const out = await session.run({ [m.input.name]: new ort.Tensor('float32', tensor, batchShape(1, m.input)) });
    const t1 = performance.now();
    const fm = featureMapAt(out[features].data as Float32Array, out[features].dims, 0);
    const cam = gradCam(plan.head, fm);
    const fit = { mode: m.input.resize ?? 'fill', modelWidth: m.input.width, modelHeight: m.input.height } as const;
    const stored = encodeMap({
      cam: cam.cam,
      camWidth: cam.width,
      camHeight: cam.height,
      width: 250,
      height: 250,
      fit,
    });
    const tm = performance.now();
    await server.services.inference.files.putBuffer(stored); // what the job stores
    const t2 = performance.now();
    // On the first request of heatmapUrl (on an image thread), then cached: the map brought to the image, coloured.
    const { map } = decodeMap(stored);
    await heatmapPng(map, 250, 250);
    const t3 = performance.now();
    if (i >= 20) {
      t.inferMs.push(t1 - t0);
      t.mathMs.push(tm - t1);
      t.storeMs.push(t2 - tm);
      t.pngMs.push(t3 - t2);
      t.camMs.push(t2 - t1);
    }
  }
  const timed = (pipeline: string, ms: number[]): Row => ({
    pipeline,
    concurrency: 1,
    'img/s': null,
    'p50 ms': quantile(ms, 0.5),
    'p95 ms': quantile(ms, 0.95),
    n: ms.length,
  });
  rows.push(
    timed('inference (decode+resize+run), 1 image', t.inferMs),
    timed('Grad-CAM math (head backprop + stored form)', t.mathMs),
    timed('Grad-CAM map into the file store', t.storeMs),
    timed('Grad-CAM in the job (math + store map)', t.camMs),
    timed('heatmap PNG, rendered on first request (map to image + colour, 250x250)', t.pngMs),
  );
  return t;
}
