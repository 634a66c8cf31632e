import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Row } from '../harness';
import { cpuStepRows, HTTP_STEP, type StepTotal } from './cpu-steps';
import { upload, unique } from './flows';
import { type Mode, startServerUnderTest } from './server';
import { runWindow, warmUp } from './window';

const PRELOAD = path.join(__dirname, 'cpu-steps-preload.js');

/**
 * The main flow at c=1 for `seconds` in a server of its own that has the CPU-steps preload, then that
 * server's totals per image (bench/peer/cpu-steps.ts). Its own server, so the wrapping costs nothing in
 * the windows that are compared with the peer.
 */
export async function measureCpuSteps(mode: Mode, image: Buffer, seconds: number): Promise<Row[]> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dg-bench-cpu-steps-'));
  const out = path.join(dir, 'totals.json');
  try {
    const server = await startServerUnderTest(mode, {
      nodeArgs: ['--require', PRELOAD],
      env: { BENCH_CPU_STEPS_OUT: out },
    });
    let images = 0;
    try {
      const once = () => upload(server, [unique(image)], { explain: true }).then(() => 1);
      await warmUp(once); // first-call costs and the JIT's warm-up out of the totals
      // Totals start over here, without the sign-up, log-in and warm-up; every request started after is counted.
      process.kill(server.pid, 'SIGUSR2');
      await new Promise((resolve) => setTimeout(resolve, 200));
      await runWindow(1, seconds, { roots: [] }, () => {
        images++;
        return once();
      });
    } finally {
      await server.stop();
    }
    const totals = JSON.parse(await fs.readFile(out, 'utf8')) as Record<string, StepTotal>;
    if (images === 0 || totals[HTTP_STEP]?.calls !== images)
      throw new Error(`CPU steps: ${images} requests sent, ${totals[HTTP_STEP]?.calls} counted`);
    return cpuStepRows(mode, totals, images);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
