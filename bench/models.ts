import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import * as ort from 'onnxruntime-node';
import { projectRoot } from '../src/infra/paths';
import { imageToTensor, batchShape } from '../src/inference/preprocess';
import { ModelRegistry, parseManifestText, type Manifest } from '../src/models-registry';
import { mean, quantile, report, type Row } from './harness';

const SWAPS = Number(process.env.BENCH_SWAPS ?? 20);
const CYCLES = Number(process.env.BENCH_CYCLES ?? 100);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const LOOPS = Number(process.env.BENCH_LOOPS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SHIPPED = ['dg-gap-classifier', 'dg-mlp-classifier', 'dg-seg-skin-distance', 'dg-seg-stats'];
const IMAGE = path.join(projectRoot, 'datasets/isic-uda1/images/ISIC_0000150.jpg');

/** A full garbage collection, so RSS figures compare live memory rather than GC timing. */
const gc: () => void = (() => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
})();
const rssMiB = () => {
  gc();
  return process.memoryUsage().rss / 2 ** 20;
};

/** Two versions of a shipped plugin: the folder as shipped (1.0.0) and a copy relabelled 1.0.1 (files and sha256 unchanged). */
async function twoVersions(work: string, name: string): Promise<[string, string]> {
  const v1 = path.join(projectRoot, 'plugins', name);
  const v2 = path.join(work, `${name}-1.0.1`);
  await cp(v1, v2, { recursive: true });
  const m = JSON.parse(await readFile(path.join(v2, 'manifest.json'), 'utf8'));
  m.version = '1.0.1';
  delete m.activate;
  await writeFile(path.join(v2, 'manifest.json'), JSON.stringify(m, null, 2));
  return [v1, v2];
}

async function feedsFor(manifest: Manifest): Promise<ort.InferenceSession.FeedsType> {
  const { tensor } = await imageToTensor(IMAGE, manifest.input);
  return { [manifest.input.name]: new ort.Tensor('float32', tensor, batchShape(1, manifest.input)) };
}

/** Requests per second from `loops` concurrent request loops over `seconds` (each request: lease, run, release). */
async function requestLoops(
  registry: ModelRegistry,
  name: string,
  feeds: ort.InferenceSession.FeedsType,
  seconds: number,
  loops: number,
) {
  const end = performance.now() + seconds * 1000;
  let done = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (performance.now() < end) {
        try {
          await registry.withModel(name, undefined, (lease) => lease.run(feeds));
          done++;
        } catch {
          failed++;
        }
      }
    }),
  );
  return { rps: done / seconds, failed };
}

/**
 * The model registry's costs on the shipped plugins (cpu): hot-swap latency, throughput while
 * swapping compared with steady state, and memory over many load/unload cycles, with the raw
 * onnxruntime-node session.run rate of the same model in the same run as the reference.
 */
export async function modelsBench(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'dg-bench-models-'));
  const registry = new ModelRegistry({ packagesDir: path.join(work, 'packages') });
  const rows: Row[] = [];
  const summary: Record<string, number | string> = {};
  try {
    // 1. Swap latency: activate the other version (load, warm-up, golden cases, switch; the old session is released).
    for (const name of SHIPPED) {
      const [a, b] = await twoVersions(work, name);
      await registry.install(a, { activate: true });
      await registry.install(b);
      const times: number[] = [];
      for (let i = 0; i < SWAPS; i++) {
        const t = performance.now();
        await registry.activate(name, i % 2 === 0 ? '1.0.1' : '1.0.0');
        times.push(performance.now() - t);
      }
      rows.push({
        measure: `swap ${name}`,
        n: SWAPS,
        p50: quantile(times, 0.5),
        p95: quantile(times, 0.95),
        mean: mean(times),
        unit: 'ms',
      });
    }

    // 2. Throughput of the classifier through the registry, steady and during a swap loop, against raw session.run.
    const name = 'dg-gap-classifier';
    const manifest = parseManifestText(
      await readFile(path.join(projectRoot, 'plugins', name, 'manifest.json'), 'utf8'),
    );
    const feeds = await feedsFor(manifest);
    const raw = await ort.InferenceSession.create(path.join(projectRoot, 'plugins', name, manifest.modelFile), {
      executionProviders: ['cpu'],
      intraOpNumThreads: manifest.threads.intraOp,
      interOpNumThreads: manifest.threads.interOp,
    });
    const rawRate = async () => {
      const end = performance.now() + SECONDS * 1000;
      let runs = 0;
      await Promise.all(
        Array.from({ length: LOOPS }, async () => {
          while (performance.now() < end) {
            await raw.run(feeds);
            runs++;
          }
        }),
      );
      return runs / SECONDS;
    };
    /** Request loops while another task swaps versions back and forth, `pauseMs` apart (0: back to back). */
    const whileSwapping = async (pauseMs: number) => {
      let swapping = true;
      let swaps = 0;
      const swapper = (async () => {
        while (swapping) {
          await registry.activate(name, registry.activeVersion(name) === '1.0.0' ? '1.0.1' : '1.0.0');
          swaps++;
          if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
        }
      })();
      const r = await requestLoops(registry, name, feeds, SECONDS, LOOPS);
      swapping = false;
      await swapper;
      return { ...r, swaps };
    };
    // Rounds interleave the four conditions, so load from other processes on the machine falls on all of them.
    const runs = { raw: [] as number[], steady: [] as number[], during: [] as number[], paced: [] as number[] };
    let failed = 0;
    let swaps = { during: 0, paced: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      runs.raw.push(await rawRate());
      const st = await requestLoops(registry, name, feeds, SECONDS, LOOPS);
      const du = await whileSwapping(0);
      const pa = await whileSwapping(250);
      runs.steady.push(st.rps);
      runs.during.push(du.rps);
      runs.paced.push(pa.rps);
      failed += st.failed + du.failed + pa.failed;
      swaps = { during: swaps.during + du.swaps, paced: swaps.paced + pa.swaps };
    }
    await raw.release();
    const med = (xs: number[]) => quantile(xs, 0.5);
    const rawRps = med(runs.raw);
    const steady = { rps: med(runs.steady) };
    const during = { rps: med(runs.during) };
    const paced = { rps: med(runs.paced) };
    const range = (xs: number[]) => `${Math.round(Math.min(...xs))}-${Math.round(Math.max(...xs))}`;
    rows.push({
      measure: `raw session.run ${name}`,
      n: ROUNDS,
      rps: rawRps,
      range: range(runs.raw),
      unit: 'req/s (median of rounds)',
    });
    rows.push({
      measure: 'registry, no swaps',
      n: ROUNDS,
      rps: steady.rps,
      range: range(runs.steady),
      unit: 'req/s (median of rounds)',
    });
    rows.push({
      measure: `registry, swaps back to back (${swaps.during} swaps)`,
      n: ROUNDS,
      rps: during.rps,
      range: range(runs.during),
      unit: 'req/s (median of rounds)',
    });
    rows.push({
      measure: `registry, a swap every 250 ms (${swaps.paced} swaps)`,
      n: ROUNDS,
      rps: paced.rps,
      range: range(runs.paced),
      unit: 'req/s (median of rounds)',
    });
    summary['registry / raw (no swaps)'] = steady.rps / rawRps;
    summary['swaps back to back / no swaps'] = during.rps / steady.rps;
    summary['a swap every 250 ms / no swaps'] = paced.rps / steady.rps;
    summary['failed requests (all rounds)'] = failed;

    // 3. Memory: load/unload cycles of the classifier (each cycle loads a new session and releases the old one).
    const cycle = () => registry.activate(name, registry.activeVersion(name) === '1.0.0' ? '1.0.1' : '1.0.0');
    await cycle();
    const after1 = rssMiB();
    for (let i = 1; i < CYCLES; i++) await cycle();
    const afterN = rssMiB();
    const live = [...registry.sessionCounts().values()].reduce((x, y) => x + y, 0);
    rows.push({ measure: 'RSS after 1 load/unload cycle', n: 1, rss: after1, unit: 'MiB' });
    rows.push({ measure: `RSS after ${CYCLES} cycles`, n: CYCLES, rss: afterN, unit: 'MiB' });
    summary[`RSS growth over ${CYCLES - 1} cycles (MiB)`] = afterN - after1;
    summary['live sessions at the end (4 models)'] = live;
  } finally {
    await registry.close();
    await rm(work, { recursive: true, force: true });
  }
  report({
    bench: 'models',
    description: `model registry on the shipped plugins, cpu, ${os.cpus().length} cores: swap latency (load + warm-up + golden cases + switch), requests/s with ${LOOPS} request loops steady vs while swapping (raw onnxruntime session.run as reference), RSS over load/unload cycles`,
    rows,
    summary,
  });
}
