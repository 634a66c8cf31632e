import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Role } from '../../src/entities';
import { packPackage } from '../../src/models-registry/package/package';
import { makeClassifierPackage, tempDir } from '../fixtures/models/packages';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { dev, Q, subscribeEvents, uploadFile } from './helpers';
import { eventually } from '../support/poll';

/**
 * Two api processes (two servers in this test process, each with its own registry, database pool and
 * Redis connections) on one PostgreSQL database, one Redis prefix and one DATA_DIR: what one does,
 * the other follows over Redis; a third started later reads the active versions from PostgreSQL.
 */
let a: TestServer;
let b: TestServer;
let admin: SignedInUser;
let work: string;

const shared = (s: TestServer) => ({
  DATABASE_URL: s.config.DATABASE_URL,
  REDIS_PREFIX: s.config.REDIS_PREFIX,
  DATA_DIR: s.config.dataDir,
});
const active = async (s: TestServer, name: string) =>
  (await s.gql<any>(Q.model, { name }, admin.token)).data?.model?.activeVersion ?? null;

beforeAll(async () => {
  a = await startTestServer();
  b = await startTestServer({ env: shared(a) });
  admin = await createSignedInUser(a, { role: Role.ADMIN }); // same database and keys: valid on both
  work = await tempDir();
});
afterAll(async () => {
  await b?.close();
  await a?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

async function upload(version: string, model: 'v1' | 'v2', activate: boolean) {
  const dir = await makeClassifierPackage(join(work, version), { version, model });
  const res = await uploadFile(
    a,
    (await packPackage(dir, join(work, `p-${version}.zip`))).outFile,
    admin.token,
    activate,
  );
  expect(res.errors).toBeUndefined();
}

it('an upload activated on one process becomes active on the other; activation, re-placement and unload follow', async () => {
  const events = await subscribeEvents(b, admin.token);
  try {
    await upload('1.0.0', 'v1', true);
    await eventually(async () => (await active(b, 'tiny-classifier')) === '1.0.0');
    await upload('2.0.0', 'v2', false);
    // Loading without activation stays local to the process that was asked.
    expect(b.services.models.versionInfo('tiny-classifier', '2.0.0')).toBeNull();
    // B lists it from PostgreSQL, marked as not loaded there.
    const listed = (await b.gql<any>(Q.model, { name: 'tiny-classifier' }, admin.token)).data.model.versions.map(
      (v: any) => [v.version, v.status, v.loaded, v.labels],
    );
    expect(listed).toEqual([
      ['2.0.0', 'READY', false, ['benign', 'malignant']],
      ['1.0.0', 'ACTIVE', true, ['benign', 'malignant']],
    ]);

    expect(
      (await a.gql<any>(Q.activate, { name: 'tiny-classifier', version: '2.0.0' }, admin.token)).errors,
    ).toBeUndefined();
    await eventually(async () => (await active(b, 'tiny-classifier')) === '2.0.0');
    // B loaded 2.0.0 from shared storage (checked again there) and serves it.
    expect(await b.services.models.withModel('tiny-classifier', undefined, async (l) => l.version)).toBe('2.0.0');

    // The other way round: B activates, A follows.
    expect(
      (await b.gql<any>(Q.activate, { name: 'tiny-classifier', version: '1.0.0' }, admin.token)).errors,
    ).toBeUndefined();
    await eventually(async () => (await active(a, 'tiny-classifier')) === '1.0.0');

    await a.gql(Q.setDevice, { name: 'tiny-classifier', version: '1.0.0', device: dev('WEBGPU') }, admin.token);
    await eventually(
      async () => b.services.models.versionInfo('tiny-classifier', '1.0.0')?.device?.requested === 'webgpu',
    );
    expect(b.services.models.versionInfo('tiny-classifier', '1.0.0')!.device).toMatchObject({
      actual: 'cpu',
      fallbackReason: expect.stringMatching(/^webgpu/),
    });

    await a.gql(Q.unload, { name: 'dg-seg-stats', version: '1.0.0' }, admin.token);
    await eventually(async () => (await active(b, 'dg-seg-stats')) === null);

    // B's subscribers saw A's activation (published on A) and B's own switch.
    await events.waitFor((ev) =>
      ev.some((e) => e.type === 'ACTIVATED' && e.version === '2.0.0' && e.processId === a.services.models.processId),
    );
    const activated = events.events
      .filter((e) => e.type === 'ACTIVATED' && e.name === 'tiny-classifier')
      .map((e) => `${e.version}@${e.processId === a.services.models.processId ? 'A' : 'B'}`);
    expect(activated).toEqual(expect.arrayContaining(['1.0.0@A', '1.0.0@B', '2.0.0@A', '2.0.0@B']));
  } finally {
    await events.close();
  }
});

it('broadcast changes are applied in order: a slow load on the follower cannot overtake a later activation', async () => {
  const events = await subscribeEvents(b, admin.token);
  try {
    await upload('3.0.0', 'v2', false); // on A only; B must load it from storage when told to activate it
    // Back to back on A (its mutation lock keeps the order): the two messages reach B a moment apart.
    await Promise.all([
      a.services.models.activate('tiny-classifier', '3.0.0'),
      a.services.models.activate('tiny-classifier', '1.0.0'),
    ]);
    expect(await active(a, 'tiny-classifier')).toBe('1.0.0');
    // B's own switches, in the order it made them. (B had 1.0.0 active already, so waiting for "1.0.0 active"
    // alone could end before B even applied the first message.)
    const switchesOnB = () =>
      events.events
        .filter(
          (e) => e.type === 'ACTIVATED' && e.name === 'tiny-classifier' && e.processId === b.services.models.processId,
        )
        .map((e) => e.version);
    await events.waitFor(() => switchesOnB().length >= 2);
    await new Promise((r) => setTimeout(r, 300)); // nothing still in flight may move it
    expect(switchesOnB()).toEqual(['3.0.0', '1.0.0']);
    expect(await active(b, 'tiny-classifier')).toBe('1.0.0');
    // Only the originator writes the pointer: PostgreSQL says 1.0.0 too.
    expect(await a.services.models.store.activeVersions()).toEqual(
      expect.arrayContaining([{ name: 'tiny-classifier', version: '1.0.0' }]),
    );
  } finally {
    await events.close();
  }
});

it('a version uploaded to one process can be activated through another (loaded there from shared storage)', async () => {
  await upload('4.0.0', 'v1', false); // A only
  expect(b.services.models.versionInfo('tiny-classifier', '4.0.0')).toBeNull();
  const res = await b.gql<any>(Q.activate, { name: 'tiny-classifier', version: '4.0.0' }, admin.token);
  expect(res.errors).toBeUndefined();
  expect(res.data.activateModelVersion).toMatchObject({ version: '4.0.0', status: 'ACTIVE', uploadedBy: admin.id });
  await eventually(async () => (await active(a, 'tiny-classifier')) === '4.0.0');
  // Unknown versions stay NOT_FOUND.
  expect(
    (await b.gql<any>(Q.activate, { name: 'tiny-classifier', version: '9.0.0' }, admin.token)).errors?.[0].extensions
      ?.code,
  ).toBe('NOT_FOUND');
  expect(
    (await b.gql<any>(Q.activate, { name: 'tiny-classifier', version: '1.0.0' }, admin.token)).errors,
  ).toBeUndefined();
  await eventually(async () => (await active(a, 'tiny-classifier')) === '1.0.0');
});

it('a process started later reads the active versions from PostgreSQL, not just the highest version', async () => {
  // Stored: tiny-classifier 1.0.0 active (2.0.0, 3.0.0 and 4.0.0 are higher), dg-seg-stats without an active version.
  const c = await startTestServer({ env: shared(a) });
  try {
    expect(await active(c, 'tiny-classifier')).toBe('1.0.0');
    expect(c.services.models.model('tiny-classifier')!.versions.map((v) => [v.version, v.status])).toEqual([
      ['4.0.0', 'READY'],
      ['3.0.0', 'READY'],
      ['2.0.0', 'READY'],
      ['1.0.0', 'ACTIVE'],
    ]);
    expect(await active(c, 'dg-gap-classifier')).toBe('1.0.0');
  } finally {
    await c.close();
  }
});
