import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';

const CLI = path.resolve(__dirname, '..', '..', 'dist', 'src', 'cli.js');

/** Starts `dermagraph serve` (the built CLI, as `npm start` runs it) and resolves with its URL once ready. */
function serve(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; logs: string[] }> {
  const child = spawn(process.execPath, [CLI, 'serve'], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready in time:\n${logs.join('\n')}`)), 60_000);
    child.stderr!.on('data', (d) => logs.push(String(d)));
    child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${logs.join('\n')}`)));
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      logs.push(line);
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === 'dermagraph ready') {
        clearTimeout(timer);
        resolve({ child, url: entry.url!.replace('localhost', '127.0.0.1'), logs });
      }
    });
  });
}

async function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

/** Smoke test of the embedded mode `npm start` uses: PGlite over the wire protocol, in-memory adapters. */
describe('embedded mode (npm start)', () => {
  it('starts on PGlite without DATABASE_URL or REDIS_URL, migrates, answers, stops cleanly, restarts on the same data', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dg-embedded-'));
    try {
      for (let round = 0; round < 2; round++) {
        const { child, url, logs } = await serve({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' });
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ me { id } }' }) });
        expect(await res.json()).toEqual({ data: { me: null } });
        const ready = (await (await fetch(url.replace('/graphql', '/readyz'))).json()) as { checks: unknown };
        expect(ready.checks).toEqual(expect.objectContaining({ database: 'UP', redis: 'EMBEDDED' }));
        expect(await stop(child)).toBe(0);
        if (round === 0) expect(logs.some((l) => l.includes('applied migrations'))).toBe(true);
        else expect(logs.some((l) => l.includes('applied migrations'))).toBe(false);
      }
      await expect(fs.stat(path.join(dataDir, 'pglite', 'PG_VERSION'))).resolves.toBeDefined();
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});
