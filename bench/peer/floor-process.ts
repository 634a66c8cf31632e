import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createBenchDatabase } from '../harness';
import { freePort } from '../free-port';
import { awaitHealth, type ServiceProcess } from './peer-process';

export interface FloorProcess extends ServiceProcess {
  /** The session its requests name (the service's own sessions table). */
  session: string;
  /** Its PostgreSQL database's name (whose backends' CPU is charged to it). */
  database: string;
}

/** bench/peer/floor-service.js (built) on a fresh database and folder of its own, resolving once /health answers. */
export async function startFloor(timeoutMs = 60_000): Promise<FloorProcess> {
  const port = await freePort();
  const db = await createBenchDatabase('floor');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dg-bench-floor-'));
  const cleanup = async () => {
    await db.drop();
    await fs.rm(dir, { recursive: true, force: true });
  };
  const child = spawn(process.execPath, [path.join(__dirname, 'floor-service.js')], {
    env: { PATH: process.env.PATH ?? '', FLOOR_PORT: String(port), FLOOR_DATABASE_URL: db.url, FLOOR_DIR: dir },
    stdio: 'pipe',
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    const { health, stop } = await awaitHealth<{ session: string }>('floor', child, url, timeoutMs);
    const database = new URL(db.url).pathname.slice(1);
    return { child, url, session: health.session, database, stop: () => stop().then(cleanup) };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
