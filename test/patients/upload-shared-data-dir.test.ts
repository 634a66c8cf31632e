import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Role } from '../../src/entities';
import { countImagesWithFile, lockFile } from '../../src/modules/images/images.repository';
import { uploadImages as uploadService } from '../../src/modules/images/uploads.service';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { createPatient, fixture, JPEGS } from './helpers';

/**
 * uploadImages in PostgreSQL mode, where other processes (api processes, workers) share DATA_DIR: the files are
 * placed, then the rows committed in one round trip whose batch takes the files' advisory locks. Another process's
 * clean-up of the same bytes (a failed batch's removeUnreferenced: advisory lock, no row, remove) can then run
 * between the placement and the commit; the upload puts the file back once its rows are in. Staged here at the
 * service, with the other process's clean-up written out (it does not share this process's own locks).
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
const upload = (data: Buffer, afterFilesPlaced: () => Promise<void>) =>
  uploadService(
    { em: em(), store: server.services.files, config: server.config },
    { id: alice.id, role: Role.CLINICIAN },
    {
      patientId,
      files: [
        Promise.resolve({ filename: 'a.jpg', mimetype: 'image/jpeg', createReadStream: () => Readable.from([data]) }),
      ],
    },
    { afterFilesPlaced },
  );
/** Another process's removeUnreferenced of `digest`, which waits for `go` between its check and the removal. */
const otherProcessCleanup = (digest: string, go: Promise<void> = Promise.resolve()) =>
  em().transactional(async (tem) => {
    await lockFile(tem, digest);
    if ((await countImagesWithFile(tem, digest)) > 0) return 'kept';
    await go;
    await server.services.files.remove(digest);
    return 'removed';
  });
/** Bytes stored by a batch that failed and has not cleaned up yet: a file no row references. */
const orphan = async (tag: string) => {
  const data = Buffer.concat([fixture(JPEGS[0]), Buffer.from(`#${tag}`)]);
  await server.services.files.putBuffer(data);
  return data;
};
const storedBytes = (digest: string) =>
  new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = [];
    server.services.files
      .open(digest)
      .on('data', (c: Buffer) => parts.push(c))
      .on('end', () => resolve(Buffer.concat(parts)))
      .on('error', reject);
  });

it('holds no lock on the files between placement and commit', async () => {
  const data = await orphan('no-lock');
  let free: boolean | undefined;
  await upload(data, async () => {
    const [{ got }] = (await em().execute(`select pg_try_advisory_xact_lock(hashtextextended(?, 0)) as got`, [
      sha(data),
    ])) as { got: boolean }[];
    free = got;
  });
  expect(free).toBe(true);
});

it('puts back a file found stored that a clean-up removed before the commit', async () => {
  const data = await orphan('removed-between');
  let cleanup: string | undefined;
  const images = await upload(data, async () => {
    cleanup = await otherProcessCleanup(sha(data));
    expect(await server.services.files.exists(sha(data))).toBe(false);
  });
  expect(cleanup).toBe('removed');
  expect(images.map((i) => i.sha256)).toEqual([sha(data)]);
  expect(await countImagesWithFile(em(), sha(data))).toBe(1);
  expect(await storedBytes(sha(data))).toEqual(data);
});

it('commits after a clean-up holding the file lock has ended, then puts the file back', async () => {
  const data = await orphan('lock-held');
  let release!: () => void;
  const go = new Promise<void>((r) => (release = r));
  let cleanup: Promise<string> | undefined;
  let answered = false;
  const uploading = upload(data, async () => {
    // The clean-up has checked (no row) and holds the lock when the upload's commit arrives.
    cleanup = otherProcessCleanup(sha(data), go);
    await new Promise((r) => setTimeout(r, 50));
  }).then((images) => ((answered = true), images));
  await new Promise((r) => setTimeout(r, 300));
  expect(answered).toBe(false); // the commit waits on the file's lock
  release();
  expect(await cleanup).toBe('removed');
  const images = await uploading;
  expect(images).toHaveLength(1);
  expect(await countImagesWithFile(em(), sha(data))).toBe(1);
  expect(await storedBytes(sha(data))).toEqual(data);
});

it('keeps the file when the clean-up comes after the commit', async () => {
  const data = await orphan('after');
  await upload(data, async () => undefined);
  expect(await otherProcessCleanup(sha(data))).toBe('kept');
  expect(await storedBytes(sha(data))).toEqual(data);
});
