import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as inspector from 'node:inspector/promises';
import { quantile, type Row } from '../harness';
import { PROFILE_DIR, SECONDS } from './settings';

export interface Sample {
  /** Milliseconds per call, of the calls that finished. */
  latencies: number[];
  /** Length of the measuring window. */
  seconds: number;
  /** Images finished inside the window. */
  images: number;
  /** CPU time of this process (all its threads) inside the window, ms. */
  cpuMs: number;
  /** Share of the window the main thread (event loop) was busy, 0..1. */
  loopBusy: number;
}

export const merge = (xs: Sample[]): Sample => ({
  latencies: xs.flatMap((x) => x.latencies),
  seconds: xs.reduce((t, x) => t + x.seconds, 0),
  images: xs.reduce((t, x) => t + x.images, 0),
  cpuMs: xs.reduce((t, x) => t + x.cpuMs, 0),
  loopBusy: xs.reduce((t, x) => t + x.loopBusy * x.seconds, 0) / xs.reduce((t, x) => t + x.seconds, 0),
});

export const imagesPerSecond = (s: Sample) => s.images / s.seconds;

/** Images finished so far by any pipeline (each bare run, each e2e `persisted` event). */
export const finished = { images: 0 };

/**
 * `loops` concurrent loops calling `once` (after `warmup` calls one at a time), measured over a
 * window of `seconds` that opens once the loops have run for `settle` seconds. Throughput counts
 * the images finished inside the window, so neither the loops' ramp-up nor a batch call still
 * running when the window closes distorts it, whatever the size of a call.
 */
export async function loopsFor(
  loops: number,
  once: (i: number) => Promise<void>,
  seconds = SECONDS,
  warmup = 10,
  settle = 0.3,
): Promise<Sample> {
  for (let i = 0; i < warmup; i++) await once(i);
  const latencies: number[] = [];
  const snapshot = () => ({
    at: performance.now(),
    cpu: process.cpuUsage(),
    images: finished.images,
    loop: performance.eventLoopUtilization(),
  });
  let open: ReturnType<typeof snapshot> | null = null;
  let window: Omit<Sample, 'latencies'> | null = null;
  const close = () => {
    const now = snapshot();
    const cpu = process.cpuUsage(open!.cpu);
    const loopBusy = performance.eventLoopUtilization(now.loop, open!.loop).utilization;
    window = {
      seconds: (now.at - open!.at) / 1000,
      images: now.images - open!.images,
      cpuMs: (cpu.user + cpu.system) / 1000,
      loopBusy,
    };
  };
  const opener = setTimeout(() => (open = snapshot()), settle * 1000);
  const closer = setTimeout(close, (settle + seconds) * 1000);
  const end = performance.now() + (settle + seconds) * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        await once(n++);
        if (open && !window) latencies.push(performance.now() - s);
      }
    }),
  );
  clearTimeout(opener);
  clearTimeout(closer);
  open ??= snapshot();
  if (!window) close();
  return { latencies, ...(window as unknown as Omit<Sample, 'latencies'>) };
}

/** `run` under the inspector's CPU profiler when BENCH_PROFILE is set (the profile written as <dir>/<name>.cpuprofile). */
export async function profiled<T>(name: string, run: () => Promise<T>): Promise<T> {
  if (!PROFILE_DIR) return run();
  const session = new inspector.Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await run();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    await mkdir(PROFILE_DIR, { recursive: true });
    await writeFile(path.join(PROFILE_DIR, `${name.replace(/[^\w.-]+/g, '_')}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}

export const row = (name: string, concurrency: number, s: Sample): Row => ({
  pipeline: name,
  concurrency,
  'img/s': imagesPerSecond(s),
  'p50 ms': quantile(s.latencies, 0.5),
  'p95 ms': quantile(s.latencies, 0.95),
  n: s.latencies.length,
  'process CPU ms/img': s.cpuMs / s.images,
  'event loop busy %': 100 * s.loopBusy,
});
