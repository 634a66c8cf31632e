import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { projectRoot } from '../../src/infra/paths';
import { adminToken, hotSwapper, installFirst, SOAK_CLASSIFIER } from './admin';
import { clinician, newLedger, type Ledger } from './clinician';
import type { Cluster } from './cluster';
import { sampleProcess, type ProcessSample } from './processes';
import { Recorder } from './recorder';

const DATASET = path.join(projectRoot, 'datasets', 'isic-uda1', 'images');

/** The real ISIC images the clinicians upload (the repository's copy, as the uploads bench reads them). */
export async function isicImages(count = 64): Promise<Buffer[]> {
  const names = (await readdir(DATASET)).filter((n) => n.endsWith('.jpg')).sort();
  return Promise.all(names.slice(0, count).map((n) => readFile(path.join(DATASET, n))));
}

export interface LoadResult {
  rec: Recorder;
  ledger: Ledger;
  samples: ProcessSample[];
  swaps: number;
  seconds: number;
}

/**
 * `users` clinicians and one admin hot-swapping the classifier they use, for `seconds`, against
 * `cluster`; RSS and event-loop delay of every process sampled every `sampleMs`. Clinicians start
 * no new round after the time is up but finish the one they are in.
 */
export async function runLoad(
  cluster: Cluster,
  users: number,
  seconds: number,
  rec = new Recorder(),
  sampleMs = 5000,
): Promise<LoadResult> {
  const ledger = newLedger();
  const images = await isicImages();
  const admin = await adminToken(cluster.url, cluster.admin.email, cluster.admin.password);
  await installFirst(rec, cluster.url, admin, cluster.work);
  const samples: ProcessSample[] = [];
  const sample = async () => {
    for (const p of cluster.processes()) {
      const s = await sampleProcess(p, rec.t0);
      if (s) samples.push(s);
    }
  };
  const sampler = setInterval(() => void sample(), sampleMs);
  await sample();
  const t0 = Date.now();
  const until = t0 + seconds * 1000;
  const target = { url: cluster.url, classifier: SOAK_CLASSIFIER, images };
  try {
    const [swaps] = await Promise.all([
      hotSwapper(rec, cluster.url, admin, cluster.work, until),
      ...Array.from({ length: users }, (_, n) => clinician(rec, ledger, target, n, until)),
    ]);
    return { rec, ledger, samples, swaps, seconds: (Date.now() - t0) / 1000 };
  } finally {
    clearInterval(sampler);
    await sample();
  }
}

/** Per process: RSS and event-loop p99 at start, at the peak and at the end, and the samples every ~30 s. */
export function overTime(samples: ProcessSample[]) {
  const names = [...new Set(samples.map((s) => s.process))];
  return names.map((process) => {
    const mine = samples.filter((s) => s.process === process);
    const lags = mine.map((s) => s.eventLoopP99Ms).filter((x): x is number => x !== null);
    return {
      process,
      'RSS start MiB': mine[0]?.rssMiB ?? null,
      'RSS max MiB': Math.max(...mine.map((s) => s.rssMiB)),
      'RSS end MiB': mine.at(-1)?.rssMiB ?? null,
      'loop p99 max ms': lags.length ? Math.max(...lags) : null,
      'loop p99 end ms': lags.at(-1) ?? null,
      'RSS MiB over time (t s: MiB)': mine
        .filter((s, i) => i === 0 || i === mine.length - 1 || s.t % 30 < 5)
        .map((s) => `${s.t}:${s.rssMiB}`)
        .join(' '),
    };
  });
}
