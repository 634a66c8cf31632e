import { cpuDelta, cpuSnapshot, type CpuTargets, type CpuUsage } from './cpu';

/** One measuring window of one flow. */
export interface Window {
  seconds: number;
  /** Images whose request finished inside the window. */
  images: number;
  /** Milliseconds per request, of those that finished inside it. */
  latencies: number[];
  cpu: CpuUsage;
}

/**
 * `clients` loops each sending one request after another (`once` resolves with the images the request
 * handled), measured over a window. It opens once the loops have run `settle` seconds and `clients` requests
 * have finished (the ramp-up is over), and closes once it has lasted `seconds` and seen `clients` more
 * requests finish, so a slow or loaded flow still gets a count that means something. Only requests that finish
 * inside the window count and the CPU snapshots are taken at its edges, so neither the ramp-up nor the requests
 * still in flight at the end distort throughput or CPU per image, whatever a request's size. After the window
 * the loops start nothing new and the ones in flight end.
 */
export async function runWindow(
  clients: number,
  seconds: number,
  targets: CpuTargets,
  once: (i: number) => Promise<number>,
  settle = 0.25,
): Promise<Window> {
  const state: { phase: 'settle' | 'open' | 'closed' } = { phase: 'settle' };
  // Read through a call: the timers and the other loops change it across an await, which TypeScript cannot see.
  const phase = () => state.phase;
  let settled = false;
  let done = 0; // requests finished in the current phase
  let images = 0;
  let next = 0;
  const latencies: number[] = [];
  let opened = { at: 0, cpu: cpuSnapshot(targets) };
  let closed = { at: 0, cpu: opened.cpu };
  let timer: NodeJS.Timeout | undefined;
  let due = false;
  const step = () => {
    if (state.phase === 'settle' && settled && done >= clients) {
      opened = { at: performance.now(), cpu: cpuSnapshot(targets) };
      state.phase = 'open';
      done = 0;
      timer = setTimeout(() => ((due = true), step()), seconds * 1000);
    } else if (state.phase === 'open' && due && done >= clients) {
      closed = { at: performance.now(), cpu: cpuSnapshot(targets) };
      state.phase = 'closed';
    }
  };
  timer = setTimeout(() => ((settled = true), step()), settle * 1000);
  const loop = async () => {
    while (phase() !== 'closed') {
      const t0 = performance.now();
      let n: number;
      try {
        n = await once(next++);
      } catch (e) {
        state.phase = 'closed'; // the other loops stop too, and the error ends the bench
        throw e;
      }
      if (phase() === 'closed') break; // finished after the window
      done++;
      if (phase() === 'open') {
        images += n;
        latencies.push(performance.now() - t0);
      }
      step();
    }
  };
  try {
    await Promise.all(Array.from({ length: clients }, loop));
  } finally {
    clearTimeout(timer);
  }
  return { seconds: (closed.at - opened.at) / 1000, images, latencies, cpu: cpuDelta(opened.cpu, closed.cpu) };
}

/**
 * Seconds each flow runs at c=8, unmeasured, before any window (BENCH_WARMUP_SECONDS; 10, 20 with BENCH_HEAVY=1).
 * This server is JIT-compiled: on a fresh process the main flow's CPU per image falls by a third or more over its
 * first thousand requests or so (V8's background compilers, and in embedded mode PGlite's WebAssembly tiering up),
 * while the peer's stays level from its first requests. Windows taken cold would charge the server its start-up,
 * which a long-running service pays once.
 */
export const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? (process.env.BENCH_HEAVY === '1' ? 20 : 10));

/**
 * Calls `once` three times alone (its first-call costs, and a failing flow stops here with its own error), then
 * runs it at c=8 for `seconds` (WARMUP_SECONDS); measures nothing.
 */
export async function warmUp(once: (i: number) => Promise<number>, seconds = WARMUP_SECONDS): Promise<void> {
  for (let i = 0; i < 3; i++) await once(i);
  if (seconds > 0) await runWindow(8, seconds, { roots: [] }, once);
}
