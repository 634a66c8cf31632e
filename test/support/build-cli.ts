import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Worker, topology and embedded-process tests run the built CLI (dist/). It is built here, once,
 * before any test file starts: a test that rebuilt it while another test's child process was
 * loading dist/ gave that process half-written modules ("currentRequestId is not a function").
 */
const root = path.resolve(__dirname, '../..');
const sources = ['src', 'bench', 'migrations', 'scripts'];
const entry = path.join(root, 'dist/src/cli.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function builtAt(): number {
  try {
    return statSync(entry).mtimeMs;
  } catch {
    return 0;
  }
}

/** Builds dist/ when any source is newer than the built CLI (`npm test`'s pretest has usually built it). */
export function buildCliIfStale(): void {
  const newest = Math.max(...sources.map((s) => newestSource(path.join(root, s))));
  if (newest <= builtAt()) return;
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}
