import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Role } from '../../src/entities';
import * as ort from 'onnxruntime-node';
import {
  IMAGES,
  INPUT,
  makeClassifierPackage,
  tempDir,
  tensorOf,
  type PackageOptions,
} from '../fixtures/models/packages';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { Q } from './helpers';
import { eventually } from '../support/poll';

/** The registry as the server wires it: MODEL_DIR and MODEL_WATCH, leftovers cleaned, /readyz and /metrics. */
let server: TestServer;
let admin: SignedInUser;
let modelDir: string;
let dataDir: string;
const cleanup: string[] = [];

beforeAll(async () => {
  modelDir = await tempDir('dg-model-dir-');
  dataDir = await tempDir('dg-data-dir-');
  await makeClassifierPackage(modelDir, { name: 'dir-classifier', version: '1.0.0' });
  // A half-finished upload from a crash, and a broken folder in MODEL_DIR: neither stops the start.
  await mkdir(join(dataDir, 'models', '.incoming', 'dg-package-crashed'), { recursive: true });
  await writeFile(join(dataDir, 'models', '.incoming', 'upload-crashed'), 'partial');
  const broken = await makeClassifierPackage(join(modelDir, 'broken'), { name: 'broken-classifier' });
  await writeFile(join(broken, 'model.onnx'), 'not a model');
  server = await startTestServer({ env: { MODEL_DIR: modelDir, MODEL_WATCH: '1', DATA_DIR: dataDir } });
  admin = await createSignedInUser(server, { role: Role.ADMIN });
});
afterAll(async () => {
  await server?.close();
  await rm(modelDir, { recursive: true, force: true });
  await rm(dataDir, { recursive: true, force: true });
  for (const d of cleanup) await rm(d, { recursive: true, force: true });
});

/** Builds a package elsewhere and moves it into MODEL_DIR in one rename, as a deployment would (the watcher never sees half a folder). */
async function drop(opts: PackageOptions): Promise<void> {
  const staging = await tempDir('dg-staging-');
  cleanup.push(staging);
  const built = await makeClassifierPackage(staging, opts);
  await mkdir(join(modelDir, 'dir-classifier'), { recursive: true });
  await rename(built, join(modelDir, 'dir-classifier', opts.version!));
}

const origin = () => server.url.replace('/graphql', '');

it('loads MODEL_DIR beside the shipped plugins, skips a broken package, and removes upload leftovers', async () => {
  const names = (await server.gql<any>(Q.models, {}, admin.token)).data.models.map(
    (m: any) => `${m.name}@${m.activeVersion}`,
  );
  expect(names).toEqual(
    expect.arrayContaining(['dir-classifier@1.0.0', 'dg-gap-classifier@1.0.0', 'dg-seg-stats@1.0.0']),
  );
  expect(server.services.models.model('broken-classifier')).toBeNull();
  expect(existsSync(join(dataDir, 'models', '.incoming'))).toBe(false);
});

it('MODEL_WATCH: a version folder dropped into MODEL_DIR is loaded, and activated only when its manifest says so', async () => {
  await drop({ name: 'dir-classifier', version: '1.1.0', model: 'v2' });
  await eventually(async () => server.services.models.versionInfo('dir-classifier', '1.1.0') !== null);
  expect(server.services.models.activeVersion('dir-classifier')).toBe('1.0.0');
  await drop({ name: 'dir-classifier', version: '1.2.0', activate: true });
  await eventually(async () => server.services.models.activeVersion('dir-classifier') === '1.2.0');
  const versions = (await server.gql<any>(Q.model, { name: 'dir-classifier' }, admin.token)).data.model.versions.map(
    (v: any) => [v.version, v.status],
  );
  expect(versions).toEqual([
    ['1.2.0', 'ACTIVE'],
    ['1.1.0', 'READY'],
    ['1.0.0', 'UNLOADED'],
  ]);
});

it('/readyz reports the models check; it goes DOWN when a model is left without an active version', async () => {
  const ready = (await (await fetch(`${origin()}/readyz`)).json()) as any;
  expect(ready.checks.models).toBe('UP');
  await server.gql(Q.unload, { name: 'dir-classifier', version: '1.2.0' }, admin.token);
  const res = await fetch(`${origin()}/readyz`);
  expect(res.status).toBe(503);
  expect(((await res.json()) as any).checks.models).toBe('DOWN');
  await server.gql(Q.activate, { name: 'dir-classifier', version: '1.1.0' }, admin.token);
  expect((await fetch(`${origin()}/readyz`)).status).toBe(200);
});

it('/metrics has the registry metrics: live sessions by device and per-version inference counts', async () => {
  await server.services.models.withModel('dir-classifier', undefined, async (lease) => {
    await lease.run({
      [INPUT.name]: new ort.Tensor('float32', await tensorOf(IMAGES[0]), [1, 3, INPUT.height, INPUT.width]),
    });
  });
  const text = await (await fetch(`${origin()}/metrics`)).text();
  expect(text).toMatch(/dermagraph_model_sessions_loaded\{device="cpu"\} \d+/);
  expect(text).toMatch(/dermagraph_model_inferences_total\{model="dir-classifier",version="1.1.0",device="cpu"\} 1/);
  expect(text).toMatch(
    /dermagraph_model_inference_duration_seconds_count\{model="dir-classifier",version="1.1.0",device="cpu"\} 1/,
  );
});
