import { randomUUID } from 'node:crypto';
import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { LocalFileStore } from './file-store';

/** Of these sha256s, the ones a row references (the caller knows the tables). */
export type ReferencedFiles = (sha256s: string[]) => Promise<Set<string>>;

export interface FileGcOptions {
  /** Only files at least this old (mtime) are candidates: uploads and jobs commit their rows after the file. */
  graceMs: number;
  /** Report what would go, delete nothing. */
  dryRun?: boolean;
  /** Candidates checked against the database at once. */
  batchSize?: number;
  now?: number;
}

export interface FileGcReport {
  /** Stored originals looked at (any age). */
  scanned: number;
  /** Unreferenced originals removed (or that would be, with dryRun), and their bytes. */
  removed: number;
  removedBytes: number;
  /** Derived copies (thumbnails, overlays) whose original is gone. */
  derivedRemoved: number;
  /** Staged uploads a dead process left in tmp/. */
  stagedRemoved: number;
  /** Unreferenced but put back: touched or referenced while the sweep ran. */
  kept: number;
}

const SHA256 = /^[0-9a-f]{64}$/;
const HEX2 = /^[0-9a-f]{2}$/;

const entries = (dir: string): Promise<Dirent[]> => fs.readdir(dir, { withFileTypes: true }).catch(() => []);

/**
 * Deletes files of the content-addressed store that no row references: what a crash between
 * storing the files and committing the rows leaves (docs/operations.md, "Files without rows").
 *
 * Safe beside running processes: a candidate must be older than `graceMs`, unreferenced, and stay so
 * while it is taken out. It is first renamed aside, so a commit of the same bytes from then on creates
 * the file anew (LocalFileStore.commit links, or touches what it found); then, renamed aside, the
 * database is asked again and its mtime read again, and a file referenced or touched meanwhile is put
 * back. Only then is it unlinked, with its derived copies.
 */
export async function sweepUnreferencedFiles(
  store: LocalFileStore,
  referenced: ReferencedFiles,
  opts: FileGcOptions,
): Promise<FileGcReport> {
  const now = opts.now ?? Date.now();
  const cutoff = now - opts.graceMs;
  const report: FileGcReport = {
    scanned: 0,
    removed: 0,
    removedBytes: 0,
    derivedRemoved: 0,
    stagedRemoved: 0,
    kept: 0,
  };
  let batch: Array<{ sha: string; file: string }> = [];
  const flush = async () => {
    if (batch.length) await collect(batch, referenced, cutoff, opts.dryRun ?? false, store, report);
    batch = [];
  };
  for (const a of await entries(store.root)) {
    if (!a.isDirectory() || !HEX2.test(a.name)) continue;
    for (const b of await entries(path.join(store.root, a.name))) {
      if (!b.isDirectory() || !HEX2.test(b.name)) continue;
      const dir = path.join(store.root, a.name, b.name);
      for (const f of await entries(dir)) {
        if (!f.isFile() || !SHA256.test(f.name)) continue;
        report.scanned++;
        const st = await fs.stat(path.join(dir, f.name)).catch(() => null);
        if (!st || st.mtimeMs > cutoff) continue;
        batch.push({ sha: f.name, file: path.join(dir, f.name) });
        if (batch.length >= (opts.batchSize ?? 500)) await flush();
      }
    }
  }
  await flush();
  report.derivedRemoved = await sweepDerived(store, referenced, cutoff, opts.dryRun ?? false);
  // Staged files of uploads a dead process left: after an hour at most (as the store's own start-up sweep).
  if (!opts.dryRun) report.stagedRemoved = await store.sweepStaging(Math.min(opts.graceMs, 3_600_000), now);
  return report;
}

async function collect(
  batch: Array<{ sha: string; file: string }>,
  referenced: ReferencedFiles,
  cutoff: number,
  dryRun: boolean,
  store: LocalFileStore,
  report: FileGcReport,
): Promise<void> {
  const inUse = await referenced(batch.map((c) => c.sha));
  const orphans = batch.filter((c) => !inUse.has(c.sha));
  if (dryRun) {
    for (const o of orphans) {
      report.removed++;
      report.removedBytes += (await fs.stat(o.file).catch(() => null))?.size ?? 0;
    }
    return;
  }
  // Aside: from here on a commit of these bytes cannot find (and count on) the file.
  const aside: Array<{ sha: string; file: string; tomb: string }> = [];
  for (const o of orphans) {
    const tomb = `${o.file}.gc-${randomUUID()}`;
    try {
      await fs.rename(o.file, tomb);
      aside.push({ ...o, tomb });
    } catch {
      // gone already (another sweep, a deletion): nothing to do
    }
  }
  if (!aside.length) return;
  const nowInUse = await referenced(aside.map((t) => t.sha));
  for (const t of aside) {
    const st = await fs.stat(t.tomb).catch(() => null);
    if (nowInUse.has(t.sha) || (st && st.mtimeMs > cutoff)) {
      await fs.link(t.tomb, t.file).catch(() => undefined); // EEXIST: committed anew meanwhile, same bytes
      await fs.rm(t.tomb, { force: true });
      report.kept++;
      continue;
    }
    await fs.rm(t.tomb, { force: true });
    report.removed++;
    report.removedBytes += st?.size ?? 0;
    // Its derivatives, unless the same bytes were committed again meanwhile.
    if (!(await store.exists(t.sha))) await store.remove(t.sha);
  }
}

/**
 * Derived copies (`derived/ab/<sha>.<variant>`) whose original is not stored and that no row references,
 * once older than the cutoff. A row can reference bytes it keeps itself (a Grad-CAM map in its prediction
 * row): their renderings stay while it does.
 */
async function sweepDerived(
  store: LocalFileStore,
  referenced: ReferencedFiles,
  cutoff: number,
  dryRun: boolean,
): Promise<number> {
  const candidates: Array<{ sha: string; file: string }> = [];
  const derived = path.join(store.root, 'derived');
  for (const a of await entries(derived)) {
    if (!a.isDirectory() || !HEX2.test(a.name)) continue;
    for (const f of await entries(path.join(derived, a.name))) {
      const sha = f.name.slice(0, 64);
      if (!f.isFile() || !SHA256.test(sha) || f.name[64] !== '.') continue;
      const file = path.join(derived, a.name, f.name);
      const st = await fs.stat(file).catch(() => null);
      if (!st || st.mtimeMs > cutoff || (await store.exists(sha))) continue;
      candidates.push({ sha, file });
    }
  }
  let removed = 0;
  for (let i = 0; i < candidates.length; i += 500) {
    const batch = candidates.slice(i, i + 500);
    const inUse = await referenced([...new Set(batch.map((c) => c.sha))]);
    for (const c of batch.filter((c) => !inUse.has(c.sha))) {
      if (!dryRun) await fs.rm(c.file, { force: true });
      removed++;
    }
  }
  return removed;
}
