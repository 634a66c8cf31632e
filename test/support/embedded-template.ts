import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * The embedded database's first start runs PGlite's initdb (about 8 s of CPU here, in WASM) before the
 * migrations. Tests of what happens on an embedded server that are not about its first start seed their
 * DATA_DIR with a copy of one database, initialised and migrated once per run by the built CLI's `migrate`,
 * as the PostgreSQL tests clone a migrated template database. The tests of the first start itself
 * (test/foundation/embedded.test.ts, start-failure, the CLI's) start from an empty DATA_DIR.
 */
const CLI = path.resolve(__dirname, '../../dist/src/cli.js');
const PREFIX = 'dg-test-pglite-';

function templateDir(): string {
  const runId = process.env.DG_TEST_RUN_ID;
  if (!runId) throw new Error('test/support/global-setup.ts did not run');
  return path.join(os.tmpdir(), `${PREFIX}${runId}`);
}

/** This run's migrated PGlite folder, made by the first test that asks (a lock folder keeps it to one maker). */
async function template(): Promise<string> {
  const dir = templateDir();
  const lock = `${dir}.lock`;
  const deadline = Date.now() + 180_000;
  for (;;) {
    // The folder appears whole, by rename, so its existence means it is ready.
    if (existsSync(dir)) return dir;
    const mine = await fs.mkdir(lock).then(
      () => true,
      (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
        return false;
      },
    );
    if (!mine) {
      if (Date.now() > deadline) throw new Error(`${lock} was held for 3 minutes: the template's maker died?`);
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    const work = await fs.mkdtemp(path.join(os.tmpdir(), 'dg-test-pglite-make-'));
    try {
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', DATA_DIR: work, LOG_LEVEL: 'warn' };
      await promisify(execFile)(process.execPath, [CLI, 'migrate'], { env, timeout: 170_000 });
      await fs.rename(path.join(work, 'pglite'), dir);
      return dir;
    } finally {
      await fs.rm(work, { recursive: true, force: true });
      await fs.rm(lock, { recursive: true, force: true });
    }
  }
}

/** Puts an initialised, migrated embedded database into `dataDir` (as DATA_DIR/pglite), as if a server had run there once. */
export async function seedEmbeddedDatabase(dataDir: string): Promise<void> {
  await fs.cp(await template(), path.join(dataDir, 'pglite'), { recursive: true });
}

/** Global teardown: this run's template, and those of runs older than an hour (crashed runs). */
export async function removeEmbeddedTemplates(runId: string): Promise<void> {
  const hourAgo = Date.now() - 3600_000;
  for (const name of await fs.readdir(os.tmpdir())) {
    if (!name.startsWith(PREFIX)) continue;
    const full = path.join(os.tmpdir(), name);
    const ours = name === `${PREFIX}${runId}` || name === `${PREFIX}${runId}.lock`;
    const old = await fs.stat(full).then(
      (s) => s.mtimeMs < hourAgo,
      () => false,
    );
    if (ours || old) await fs.rm(full, { recursive: true, force: true });
  }
}
