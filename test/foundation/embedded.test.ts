import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import { spawnServe } from '../../bench/serve-process';

/** Smoke test of the embedded mode `npm start` uses: PGlite over the wire protocol, in-memory adapters. */
describe('embedded mode (npm start)', () => {
  it('starts on PGlite without DATABASE_URL or REDIS_URL, migrates, answers, stops cleanly, restarts on the same data', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dg-embedded-'));
    try {
      for (let round = 0; round < 2; round++) {
        const { url, logs, stop } = await spawnServe({
          DATA_DIR: dataDir,
          PORT: '0',
          HOST: '127.0.0.1',
          LOG_LEVEL: 'info',
        });
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ me { id } }' }),
        });
        expect(await res.json()).toEqual({ data: { me: null } });
        const ready = (await (await fetch(url.replace('/graphql', '/readyz'))).json()) as { checks: unknown };
        expect(ready.checks).toEqual(expect.objectContaining({ database: 'UP', redis: 'EMBEDDED' }));
        expect(await stop()).toBe(0);
        if (round === 0) expect(logs.some((l) => l.includes('applied migrations'))).toBe(true);
        else expect(logs.some((l) => l.includes('applied migrations'))).toBe(false);
      }
      await expect(fs.stat(path.join(dataDir, 'pglite', 'PG_VERSION'))).resolves.toBeDefined();
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  }, 180_000); // two starts, the first initialising PGlite: ~50 s on a busy 2-core machine
});
