import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { createBenchDatabase, report, quantile, mean } from './harness';
import { spawnServe } from './serve-process';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

/** Time for a bare `node -e ""`: the floor any Node server's start sits on. */
async function bareNodeMs(): Promise<number> {
  const t = process.hrtime.bigint();
  await new Promise((resolve) => spawn(process.execPath, ['-e', ''], { stdio: 'ignore' }).once('exit', resolve));
  return Number(process.hrtime.bigint() - t) / 1e6;
}

async function timeStarts(env: Record<string, string>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const s = await spawnServe({ ...env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' });
    times.push(s.readyMs);
    await s.stop();
  }
  return times;
}

/**
 * Cold start to ready (process spawn to "dermagraph ready": modules, database, migrations checked,
 * models loaded, listening), with an existing embedded data directory and against real PostgreSQL.
 * Target: under 3 s each on a 2-core machine.
 */
export async function startupBench(): Promise<void> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dg-bench-startup-'));
  const database = await createBenchDatabase('startup');
  try {
    const bare: number[] = [];
    for (let i = 0; i < RUNS; i++) bare.push(await bareNodeMs());
    const first = await spawnServe({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' }, 120_000);
    await first.stop();
    const embedded = await timeStarts({ DATA_DIR: dataDir });
    const firstPg = await spawnServe({
      DATA_DIR: dataDir,
      DATABASE_URL: database.url,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    });
    await firstPg.stop();
    const postgres = await timeStarts({ DATA_DIR: dataDir, DATABASE_URL: database.url });
    const row = (mode: string, t: number[]) => ({
      mode,
      runs: t.length,
      'p50 ms': quantile(t, 0.5),
      'mean ms': mean(t),
      'max ms': Math.max(...t),
      'vs bare node': quantile(t, 0.5) / quantile(bare, 0.5),
    });
    report({
      bench: 'startup',
      description: 'spawn to ready, existing data (migrations already applied); target < 3000 ms',
      rows: [
        {
          mode: 'embedded, first start (new data dir)',
          runs: 1,
          'p50 ms': first.readyMs,
          'mean ms': first.readyMs,
          'max ms': first.readyMs,
          'vs bare node': first.readyMs / quantile(bare, 0.5),
        },
        row('embedded (PGlite), existing data', embedded),
        row('PostgreSQL, migrated', postgres),
        row('bare `node -e ""`', bare),
      ],
      summary: { 'embedded p50 ms': quantile(embedded, 0.5), 'postgres p50 ms': quantile(postgres, 0.5) },
    });
  } finally {
    await database.drop();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}
