import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Role } from '../../src/entities';
import { removeUnreferenced, uploadImages as uploadService } from '../../src/modules/images/uploads.service';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { createPatient, fixture, JPEGS, snapshot } from './helpers';

/**
 * uploadImages where this process is the only writer of DATA_DIR (embedded mode, `embeddedDatabase`): the files'
 * locks are the process's own, so the transaction is one round trip opened once the files are placed, and holds no
 * database lock on the files. Run on PostgreSQL with the flag set, at the service, so the race with a clean-up of
 * the same bytes can be staged between placement and commit.
 */
let server: TestServer;
let alice: SignedInUser;
let patientId: string;
beforeAll(async () => {
  server = await startTestServer();
  alice = await createSignedInUser(server, { role: Role.CLINICIAN });
  patientId = await createPatient(server, alice.token);
}, 60_000);
afterAll(() => server?.close());

const em = () => server.services.db.orm.em.fork();
const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const file = (data: Buffer, filename = 'a.jpg') =>
  Promise.resolve({ filename, mimetype: 'image/jpeg', createReadStream: () => Readable.from([data]) });
const upload = (files: Buffer[], afterFilesPlaced?: () => Promise<void>) =>
  uploadService(
    { em: em(), store: server.services.files, config: { ...server.config, embeddedDatabase: true } },
    { id: alice.id, role: Role.CLINICIAN },
    { patientId, files: files.map((d, i) => file(d, `f${i}.jpg`)) },
    { afterFilesPlaced },
  );
const unique = (i: number, tag: string) => Buffer.concat([fixture(JPEGS[i % JPEGS.length]), Buffer.from(`#${tag}`)]);
const imagesWith = async (digest: string) =>
  Number(
    ((await em().execute(`select count(*)::int as n from images where sha256 = ?`, [digest])) as { n: number }[])[0].n,
  );

it('a clean-up of the same bytes waits for the commit, then keeps the file its row references', async () => {
  const data = unique(0, 'race');
  let cleanup: Promise<void> | undefined;
  let cleanedBeforeCommit = false;
  const images = await upload([data], async () => {
    // A failed batch of the same bytes cleaning up now would see no row and remove the file.
    cleanup = removeUnreferenced(em(), server.services.files, [sha(data)]).then(
      () => void (cleanedBeforeCommit = true),
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(cleanedBeforeCommit).toBe(false);
  });
  await cleanup;
  expect(images).toHaveLength(1);
  expect(await server.services.files.exists(sha(data))).toBe(true);
  expect(await imagesWith(sha(data))).toBe(1);
});

it('holds no database lock on the files between placement and commit (one round trip)', async () => {
  const data = unique(1, 'no-db-lock');
  let free: boolean | undefined;
  await upload([data], async () => {
    const [{ got }] = (await em().execute(`select pg_try_advisory_xact_lock(hashtextextended(?, 0)) as got`, [
      sha(data),
    ])) as { got: boolean }[];
    free = got;
  });
  expect(free).toBe(true);
});

it('a batch that fails after placing its files removes the new ones, keeps the shared one, and stores no row', async () => {
  const shared = unique(2, 'shared');
  await upload([shared]);
  const fresh = unique(3, 'fresh');
  const before = await snapshot(server);
  await expect(
    upload([shared, fresh], async () => {
      expect(await server.services.files.exists(sha(fresh))).toBe(true);
      throw new Error('database went away');
    }),
  ).rejects.toThrow('database went away');
  expect(await snapshot(server)).toEqual(before);
  expect(await server.services.files.exists(sha(fresh))).toBe(false);
  expect(await server.services.files.exists(sha(shared))).toBe(true);
});

it('concurrent batches of the same bytes land with one stored file', async () => {
  const data = unique(4, 'same');
  const before = await snapshot(server);
  const results = await Promise.all(Array.from({ length: 4 }, () => upload([data])));
  expect(results.map((r) => r.length)).toEqual([1, 1, 1, 1]);
  const after = await snapshot(server);
  expect(after.images - before.images).toBe(4);
  expect(after.files - before.files).toBe(1);
});
