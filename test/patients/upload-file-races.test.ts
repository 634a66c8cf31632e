import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Role } from '../../src/entities';
import { countImagesWithFile, lockFile } from '../../src/modules/images/images.repository';
import { removeUnreferenced, uploadImages as uploadService } from '../../src/modules/images/uploads.service';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { createPatient, fixture, JPEGS, snapshot } from './helpers';

/**
 * uploadImages against clean-ups of the same bytes (a failed batch's removeUnreferenced: it removes a file no image
 * row references), staged at the service between the placement of the files and the commit of their rows, which
 * is one round trip in both modes and holds no database lock before it:
 * - embedded mode (`embeddedDatabase`; run here on PostgreSQL with the flag set): this process is DATA_DIR's only
 *   writer, and its clean-ups wait for its own locks on the files, held from placement to commit;
 * - PostgreSQL mode: other processes share DATA_DIR, and their clean-ups (written out here: they do not share this
 *   process's locks) take the files' advisory locks, which the commit's batch takes too; a file found stored that
 *   one removed before the commit is put back from the staged copy once the rows are in.
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
const upload = (files: Buffer[], afterFilesPlaced?: () => Promise<void>, embeddedDatabase = true) =>
  uploadService(
    { em: em(), store: server.services.files, config: { ...server.config, embeddedDatabase } },
    { id: alice.id, role: Role.CLINICIAN },
    { patientId, files: files.map((d, i) => file(d, `f${i}.jpg`)) },
    { afterFilesPlaced },
  );
const unique = (i: number, tag: string) => Buffer.concat([fixture(JPEGS[i % JPEGS.length]), Buffer.from(`#${tag}`)]);
const imagesWith = (digest: string) => countImagesWithFile(em(), digest);

it.each([true, false])(
  'holds no database lock on the files between placement and commit (embedded: %s)',
  async (embedded) => {
    const data = unique(1, `no-db-lock-${embedded}`);
    let free: boolean | undefined;
    await upload(
      [data],
      async () => {
        const [{ got }] = (await em().execute(`select pg_try_advisory_xact_lock(hashtextextended(?, 0)) as got`, [
          sha(data),
        ])) as { got: boolean }[];
        free = got;
      },
      embedded,
    );
    expect(free).toBe(true);
  },
);

describe('one process (embedded mode)', () => {
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
});

describe('processes sharing DATA_DIR (PostgreSQL mode)', () => {
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
    const data = unique(0, tag);
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
  const uploadOne = (data: Buffer, afterFilesPlaced: () => Promise<void>) => upload([data], afterFilesPlaced, false);

  it('puts back a file found stored that a clean-up removed before the commit', async () => {
    const data = await orphan('removed-between');
    let cleanup: string | undefined;
    const images = await uploadOne(data, async () => {
      cleanup = await otherProcessCleanup(sha(data));
      expect(await server.services.files.exists(sha(data))).toBe(false);
    });
    expect(cleanup).toBe('removed');
    expect(images.map((i) => i.sha256)).toEqual([sha(data)]);
    expect(await imagesWith(sha(data))).toBe(1);
    expect(await storedBytes(sha(data))).toEqual(data);
  });

  it('commits after a clean-up holding the file lock has ended, then puts the file back', async () => {
    const data = await orphan('lock-held');
    let release!: () => void;
    const go = new Promise<void>((r) => (release = r));
    let cleanup: Promise<string> | undefined;
    let answered = false;
    const uploading = uploadOne(data, async () => {
      // The clean-up has checked (no row) and holds the lock when the upload's commit arrives.
      cleanup = otherProcessCleanup(sha(data), go);
      await new Promise((r) => setTimeout(r, 50));
    }).then((images) => ((answered = true), images));
    await new Promise((r) => setTimeout(r, 300));
    expect(answered).toBe(false); // the commit waits on the file's lock
    release();
    expect(await cleanup).toBe('removed');
    expect(await uploading).toHaveLength(1);
    expect(await imagesWith(sha(data))).toBe(1);
    expect(await storedBytes(sha(data))).toEqual(data);
  });

  it('keeps the file when the clean-up comes after the commit', async () => {
    const data = await orphan('after');
    await uploadOne(data, async () => undefined);
    expect(await otherProcessCleanup(sha(data))).toBe('kept');
    expect(await storedBytes(sha(data))).toEqual(data);
  });
});
