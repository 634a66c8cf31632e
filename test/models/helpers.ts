import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Role } from '../../src/entities';
import { ModelVersion } from '../../src/entities/model-version';
import { packPackage } from '../../src/models-registry/package/package';
import { makeClassifierPackage, tempDir, type ClassifierVersion } from '../fixtures/models/packages';
import { startTestServer, type GqlResult, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { connectWs } from '../support/ws';

/** GraphQL operations of the model registry, as clients write them. */
export const VERSION_FIELDS =
  'name version task status active loaded labels malignantLabels sha256 loadMs loadedAt uploadedBy error device { requested { kind index } actual { kind index } fallbackReason } stats { requests errors p50Ms p95Ms }';
/** A Device as the API answers it, and a DeviceInput: `dev('CUDA', 1)` is cuda:1. */
export const dev = (kind: 'CPU' | 'WEBGPU' | 'CUDA' | 'TENSORRT', index: number | null = null) => ({ kind, index });

export const Q = {
  models: `query { models { name task activeVersion versions { ${VERSION_FIELDS} } } }`,
  model: `query($name: String!) { model(name: $name) { name task activeVersion versions { ${VERSION_FIELDS} } } }`,
  upload: `mutation($file: Upload!, $activate: Boolean) { uploadModelPackage(file: $file, activate: $activate) { ${VERSION_FIELDS} } }`,
  activate: `mutation($name: String!, $version: String!) { activateModelVersion(name: $name, version: $version) { ${VERSION_FIELDS} } }`,
  unload: `mutation($name: String!, $version: String!) { unloadModelVersion(name: $name, version: $version) { ${VERSION_FIELDS} } }`,
  setDevice: `mutation($name: String!, $version: String, $device: DeviceInput!) { setModelDevice(name: $name, version: $version, device: $device) { ${VERSION_FIELDS} } }`,
  regenerate: `mutation { regenerateModelCache { name version status device { actual { kind index } } } }`,
  rollback: `mutation($name: String!) { rollbackModelVersion(name: $name) { ${VERSION_FIELDS} } }`,
  events: `subscription { modelRegistryEvents { type name version previousVersion message processId device { requested { kind index } actual { kind index } fallbackReason } } }`,
};

/** Posts `uploadModelPackage` as a multipart request (graphql-multipart-request-spec), with the CSRF preflight header. */
export async function uploadPackage(
  server: TestServer,
  bytes: Buffer,
  filename: string,
  token: string | undefined,
  activate = false,
): Promise<GqlResult<any>> {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query: Q.upload, variables: { file: null, activate } }));
  form.append('map', JSON.stringify({ 0: ['variables.file'] }));
  form.append('0', new Blob([bytes], { type: 'application/octet-stream' }), filename);
  const res = await fetch(server.url, {
    method: 'POST',
    headers: { 'apollo-require-preflight': 'true', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: form,
  });
  return { ...((await res.json()) as object), status: res.status };
}

export const uploadFile = async (server: TestServer, file: string, token: string | undefined, activate = false) =>
  uploadPackage(server, await readFile(file), file.split('/').pop()!, token, activate);

/** Every file under `dir` (relative paths), empty when the folder does not exist. */
export async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

export interface EventStream {
  events: Array<Record<string, any>>;
  errors: unknown[];
  waitFor(pred: (events: Array<Record<string, any>>) => boolean, ms?: number): Promise<void>;
  close(): Promise<void>;
}

/** Subscribes to `modelRegistryEvents` over graphql-ws; resolves once the server has acknowledged the connection. */
export async function subscribeEvents(server: TestServer, token: string): Promise<EventStream> {
  const client = await connectWs(server.url, token);
  const events: Array<Record<string, any>> = [];
  const errors: unknown[] = [];
  const dispose = client.subscribe(
    { query: Q.events },
    {
      next: (r) => {
        if (r.errors) errors.push(...r.errors);
        if (r.data) events.push((r.data as any).modelRegistryEvents);
      },
      error: (e) => errors.push(e),
      complete: () => undefined,
    },
  );
  // The subscription is registered on the server a moment after it is sent.
  await new Promise((r) => setTimeout(r, 200));
  return {
    events,
    errors,
    async waitFor(pred, ms = 10_000) {
      const end = Date.now() + ms;
      while (!pred(events)) {
        if (Date.now() > end)
          throw new Error(
            `events not seen in time; got ${JSON.stringify(events.map((e) => `${e.type} ${e.name}@${e.version}`))} errors ${JSON.stringify(errors)}`,
          );
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      dispose();
      await client.dispose();
    },
  };
}

/** Largest package the registry's GraphQL tests allow (MODEL_PACKAGE_MAX_BYTES). */
export const MAX_PACKAGE_BYTES = 3_000_000;

/**
 * One server for a test file (the shipped plugins loaded), an admin and a clinician, and a work
 * folder; started before the file's tests, closed after them.
 */
export function modelsServer() {
  const h = {
    server: undefined as unknown as TestServer,
    admin: undefined as unknown as SignedInUser,
    clinician: undefined as unknown as SignedInUser,
    work: '',
    /** DATA_DIR/models: where the registry keeps uploaded packages. */
    packagesDir: '',
    /** The `model_versions` rows, by name and version. */
    rows: () => h.server.services.db.orm.em.fork().find(ModelVersion, {}, { orderBy: { name: 'asc', version: 'asc' } }),
    /** A tiny-classifier package of `version` (fixture model `model`) packed as .zip or .tar.gz. */
    async packed(version: string, model: ClassifierVersion, ext: 'zip' | 'tar.gz'): Promise<string> {
      const dir = await makeClassifierPackage(join(h.work, `${version}-${ext}`), { version, model });
      return (await packPackage(dir, join(h.work, `tiny-classifier-${version}.${ext}`))).outFile;
    },
  };
  beforeAll(async () => {
    h.server = await startTestServer({ env: { MODEL_PACKAGE_MAX_BYTES: String(MAX_PACKAGE_BYTES) } });
    h.admin = await createSignedInUser(h.server, { role: Role.ADMIN });
    h.clinician = await createSignedInUser(h.server, { role: Role.CLINICIAN });
    h.work = await tempDir();
    h.packagesDir = join(h.server.config.dataDir, 'models');
  });
  afterAll(async () => {
    await h.server?.close();
    if (h.work) await rm(h.work, { recursive: true, force: true });
  });
  return h;
}
