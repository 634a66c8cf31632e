import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Role } from '../../src/entities';
import { FILE_REFERENCES, NOT_STORE_FILES, collectFiles, startFileGc } from '../../src/app/file-gc';
import type { LocalFileStore } from '../../src/infra/storage/file-store';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { Q, seedImages, waitForJob } from '../inference/helpers';
import { ROOT } from './cluster';

/**
 * The file GC (`dermagraph gc-files` and the periodic sweep): files of the store that no row
 * references, older than the grace period, go with their derived copies; every file a row
 * references (images, Grad-CAM maps, masks, reports) stays, however old.
 */
let server: TestServer;
let alice: SignedInUser;
let store: LocalFileStore;
const DAY = 24 * 3600_000;

/** Sets a file's mtime `ms` in the past (what a file stored by a crashed process a while ago looks like). */
const age = async (file: string, ms: number) => {
  const t = new Date(Date.now() - ms);
  await fs.utimes(file, t, t);
};

/** Every stored original (sha256 names) and derived copy under the store, relative, sorted. */
async function storedFiles(): Promise<string[]> {
  const all = await fs.readdir(store.root, { recursive: true, withFileTypes: true });
  return all
    .filter((e) => e.isFile() && !path.relative(store.root, e.parentPath).startsWith('tmp'))
    .map((e) => path.relative(store.root, path.join(e.parentPath, e.name)))
    .sort();
}

const gcCli = (args: string[]) =>
  promisify(execFile)(process.execPath, [path.join(ROOT, 'dist/src/cli.js'), 'gc-files', ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      DOTENV_PATH: '/dev/null',
      LOG_LEVEL: 'warn',
      DATABASE_URL: server.config.DATABASE_URL,
      DATA_DIR: server.dataDir,
    },
  });

beforeAll(async () => {
  server = await startTestServer({ env: { JOB_MODE: 'inline' } });
  alice = await createSignedInUser(server, { role: Role.CLINICIAN });
  store = server.services.files as LocalFileStore;
}, 300_000);

afterAll(async () => {
  await server?.close();
});

it('knows every column that holds a sha256: a new one must be listed, or its files would be collected', async () => {
  const cols = (await server.services.db.orm.em
    .fork()
    .getConnection()
    .execute(
      `select table_name as "table", column_name as "column" from information_schema.columns
       where table_schema = current_schema() and column_name like '%sha256' order by 1, 2`,
    )) as Array<{ table: string; column: string }>;
  const known = [...FILE_REFERENCES, ...NOT_STORE_FILES].map((c) => `${c.table}.${c.column}`).sort();
  expect(cols.map((c) => `${c.table}.${c.column}`)).toEqual(known);
});

it('removes old unreferenced files and their derived copies; keeps every referenced file and young ones', async () => {
  // Real results: an upload's image, a classification with Grad-CAM, a segmentation (masks, overlay).
  const [imageId] = await seedImages(server, alice.id, ['ISIC_0000150']);
  const c = await server.gql<any>(Q.classify, { imageId, explain: true }, alice.token);
  expect(c.errors).toBeUndefined();
  const classified = await waitForJob(server, alice.token, c.data.classifyImage.id);
  expect(classified.status).toBe('SUCCEEDED');
  // Its heatmap, rendered on request: a derived copy of a map that its prediction row keeps (no map file).
  const prediction = (await server.gql<any>(Q.prediction, { id: classified.resultIds[0] }, alice.token)).data
    .prediction;
  const h = new URL(prediction.gradCam.heatmapUrl);
  const heatmapUrl = `${server.url.replace('/graphql', '')}${h.pathname}${h.search}`;
  expect((await fetch(heatmapUrl)).status).toBe(200);
  const s = await server.gql<any>(
    Q.segment,
    { imageIds: [imageId], members: [{ model: 'dg-seg-stats' }] },
    alice.token,
  );
  expect(s.errors).toBeUndefined();
  const seg = await waitForJob(server, alice.token, s.data.segmentImages.id);
  expect(seg.status).toBe('SUCCEEDED');
  const overlay = (await server.gql<any>(Q.segmentation, { id: seg.resultIds[0] }, alice.token)).data.segmentation;
  // A derived overlay at another opacity, made on request (a cached derivative of a referenced file).
  const o = new URL(overlay.overlay80);
  expect((await fetch(`${server.url.replace('/graphql', '')}${o.pathname}${o.search}`)).status).toBe(200);
  const referenced = await storedFiles();
  // image, mask, probability, overlay, the overlay at 0.8 and the heatmap
  expect(referenced.length).toBeGreaterThanOrEqual(6);
  expect(referenced.filter((f) => f.endsWith('.heatmap'))).toHaveLength(1);

  // What a crash between storing files and committing rows leaves: an original with a derived copy, old.
  const orphan = await store.putBuffer(randomBytes(4096));
  await store.putCached(orphan.sha256, 'thumbnail', randomBytes(100));
  // A rendering of bytes neither stored nor kept by any row (its row is gone), old.
  const strayRendering = await store.putCached(randomBytes(32).toString('hex'), 'heatmap', randomBytes(100));
  const young = await store.putBuffer(randomBytes(2048)); // an upload whose rows are being committed now
  const staged = await store.tempFile();
  await fs.writeFile(staged, 'half an upload');
  for (const f of referenced) await age(path.join(store.root, f), 30 * DAY);
  await age(store.path(orphan.sha256), 2 * DAY);
  await age((await store.cachedPath(orphan.sha256, 'thumbnail'))!, 2 * DAY);
  await age(staged, 2 * DAY);
  await age(strayRendering, 2 * DAY);

  const dry = await gcCli(['--dry-run']);
  expect(dry.stdout).toContain('would remove 1 without a row (4096 bytes)');
  // The stray rendering only: the orphan's original is still there, and the heatmap's map is in its row.
  expect(dry.stdout).toContain('would remove 1 derived copies');
  expect(await store.exists(orphan.sha256)).toBe(true);

  const run = await gcCli([]);
  expect(run.stdout).toContain('removed 1 without a row (4096 bytes)');
  expect(run.stdout).toContain('removed 1 abandoned staged uploads');
  expect(await store.exists(orphan.sha256)).toBe(false);
  expect(await store.cachedPath(orphan.sha256, 'thumbnail')).toBeNull();
  await expect(fs.stat(strayRendering)).rejects.toThrow();
  expect(await store.exists(young.sha256)).toBe(true);
  await expect(fs.stat(staged)).rejects.toThrow();
  const young1 = path.relative(store.root, store.path(young.sha256));
  expect(await storedFiles()).toEqual([...referenced, young1].sort());
  // The results still serve.
  const m = new URL(overlay.maskUrl);
  expect((await fetch(`${server.url.replace('/graphql', '')}${m.pathname}${m.search}`)).status).toBe(200);
  expect((await fetch(heatmapUrl)).status).toBe(200);

  // A second sweep finds nothing; a grace shorter than the young file's age takes it too.
  expect((await collectFiles(server.config, server.services.db, store)).removed).toBe(0);
  await age(store.path(young.sha256), 10 * 60_000);
  const r = await collectFiles(server.config, server.services.db, store, { graceMinutes: 5 });
  expect(r).toMatchObject({ removed: 1, removedBytes: 2048 });
  expect(await storedFiles()).toEqual(referenced);
}, 300_000);

it('an old orphan whose bytes are stored again (a new upload of the same file) is kept for the row to come', async () => {
  const bytes = randomBytes(3000);
  const first = await store.putBuffer(bytes);
  await age(store.path(first.sha256), 2 * DAY);
  // The same bytes committed again: found in place (created: false), and touched.
  const again = await store.putBuffer(bytes);
  expect(again).toMatchObject({ sha256: first.sha256, created: false });
  const r = await collectFiles(server.config, server.services.db, store);
  expect(r.removed).toBe(0);
  expect(await store.exists(first.sha256)).toBe(true);
  await store.remove(first.sha256);
});

it('the periodic sweep removes an old orphan by itself, and stops when told', async () => {
  const orphan = await store.putBuffer(randomBytes(1000));
  await age(store.path(orphan.sha256), 2 * DAY);
  const config = { ...server.config, FILE_GC_INTERVAL_MINUTES: 1 };
  const stop = startFileGc(config, server.services.db, store, server.services.logger, 0);
  try {
    for (let i = 0; i < 500 && (await store.exists(orphan.sha256)); i++) await new Promise((r) => setTimeout(r, 20));
    expect(await store.exists(orphan.sha256)).toBe(false);
  } finally {
    await stop();
  }
  // FILE_GC_INTERVAL_MINUTES=0: no sweep at all.
  const kept = await store.putBuffer(randomBytes(1000));
  await age(store.path(kept.sha256), 2 * DAY);
  const none = startFileGc(
    { ...server.config, FILE_GC_INTERVAL_MINUTES: 0 },
    server.services.db,
    store,
    server.services.logger,
    0,
  );
  await new Promise((r) => setTimeout(r, 300));
  await none();
  expect(await store.exists(kept.sha256)).toBe(true);
  await store.remove(kept.sha256);
});

it('gc-files refuses a grace that is not a whole number of minutes', async () => {
  await expect(gcCli(['--grace-minutes', 'soon'])).rejects.toMatchObject({ code: 1 });
  await expect(gcCli(['--grace-minutes', '-5'])).rejects.toMatchObject({
    stderr: expect.stringContaining('--grace-minutes'),
  });
});
