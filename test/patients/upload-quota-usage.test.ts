import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { createPatient, errorCode, fixture, JPEGS, uploadImages } from './helpers';

/**
 * The monthly upload quota reads one row, the month's usage row, which each upload's own transaction moves
 * on: not a count of the month's images, which cost every upload two scans over all of them under the
 * quota's lock. The migration that brought the column counts the uploads stored before it.
 */
const LIMIT = 5;
const MIGRATION = 'Migration20261206100000_upload_usage';
const DASHBOARD = `query { myDashboard { totalUploads uploadQuota { limit used remaining } } }`;

let server: TestServer;
let alice: SignedInUser;
let patientId: string;

beforeAll(async () => {
  server = await startTestServer({ env: { QUOTA_FREE_UPLOADS_PER_MONTH: String(LIMIT) } });
  alice = await createSignedInUser(server);
  patientId = await createPatient(server, alice.token);
}, 60_000);

afterAll(() => server?.close());

const sql = (text: string, params: unknown[] = []) =>
  server.services.db.orm.em.fork().getConnection().execute(text, params);
const iso = (d: Date) => d.toISOString().slice(0, 10);
const thisMonth = () => {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
};
const lastMonth = () => new Date(Date.UTC(thisMonth().getUTCFullYear(), thisMonth().getUTCMonth() - 1, 1));
const usageRows = async (userId: string) =>
  (await sql(`select month::text as month, uploads from prediction_usage where owner_id = ? order by month`, [
    userId,
  ])) as { month: string; uploads: number }[];
const upload = (user: SignedInUser, n: number, tag: string) =>
  uploadImages(
    server,
    user.token,
    { patientId },
    Array.from({ length: n }, (_, i) => ({
      name: `${tag}-${i}.jpg`,
      data: Buffer.concat([fixture(JPEGS[i % JPEGS.length]), Buffer.from(`#${tag}-${i}`)]),
    })),
    'id',
  );

it('each upload moves the month’s row on by its images; a refused one moves nothing', async () => {
  expect((await upload(alice, 2, 'a')).errors).toBeUndefined();
  expect((await upload(alice, 1, 'b')).errors).toBeUndefined();
  expect(await usageRows(alice.id)).toEqual([{ month: iso(thisMonth()), uploads: 3 }]);
  // A truncated file in a batch: nothing stored, nothing counted.
  const whole = fixture(JPEGS[1]);
  const bad = await uploadImages(server, alice.token, { patientId }, [
    { name: 'ok.jpg', data: Buffer.concat([fixture(JPEGS[0]), Buffer.from('#ok')]) },
    { name: 'bad.jpg', data: whole.subarray(0, whole.length >> 1) },
  ]);
  expect(errorCode(bad)).toBe('BAD_USER_INPUT');
  // Past the quota (3 used + 3 asked > 5): refused, nothing counted.
  const over = await upload(alice, 3, 'c');
  expect(over.errors?.[0].extensions).toMatchObject({ code: 'RATE_LIMITED', quota: 'uploads', limit: LIMIT, used: 3 });
  expect(await usageRows(alice.id)).toEqual([{ month: iso(thisMonth()), uploads: 3 }]);
  const d = (await server.gql<any>(DASHBOARD, {}, alice.token)).data.myDashboard;
  expect(d).toEqual({ totalUploads: 3, uploadQuota: { limit: LIMIT, used: 3, remaining: 2 } });
});

it('the quota is the month’s row: what it says is what is used, and last month’s row does not count', async () => {
  const bob = await createSignedInUser(server);
  await sql(`insert into prediction_usage (owner_id, month, uploads) values (?, ?::date, 1000), (?, ?::date, ?)`, [
    bob.id,
    iso(lastMonth()),
    bob.id,
    iso(thisMonth()),
    LIMIT - 1,
  ]);
  const bobPatient = await createPatient(server, bob.token);
  const one = await uploadImages(server, bob.token, { patientId: bobPatient }, [
    { name: 'x.jpg', data: Buffer.concat([fixture(JPEGS[2]), Buffer.from('#bob')]) },
  ]);
  expect(one.errors).toBeUndefined();
  const next = await uploadImages(server, bob.token, { patientId: bobPatient }, [
    { name: 'y.jpg', data: Buffer.concat([fixture(JPEGS[2]), Buffer.from('#bob2')]) },
  ]);
  expect(next.errors?.[0].extensions).toMatchObject({ code: 'RATE_LIMITED', used: LIMIT, limit: LIMIT });
  // The all-time total adds the months' rows up: last month's 1000 count there, though not against this month.
  const d = (await server.gql<any>(DASHBOARD, {}, bob.token)).data.myDashboard;
  expect(d).toEqual({ totalUploads: 1000 + LIMIT, uploadQuota: { limit: LIMIT, used: LIMIT, remaining: 0 } });
});

it('the migration counts the uploads stored before it, per user and month', async () => {
  const carol = await createSignedInUser(server);
  const carolPatient = await createPatient(server, carol.token);
  const up = await uploadImages(
    server,
    carol.token,
    { patientId: carolPatient },
    [0, 1, 2].map((i) => ({ name: `${i}.jpg`, data: Buffer.concat([fixture(JPEGS[i]), Buffer.from(`#carol${i}`)]) })),
    'id',
  );
  expect(up.errors).toBeUndefined();
  const ids = (up.data as any).uploadImages.map((i: { id: string }) => i.id);
  const migrator = server.services.db.orm.getMigrator();
  await migrator.down({ migrations: [MIGRATION] });
  // As stored before the column: one of carol's images from last month, the others from this one.
  await sql(`update images set created_at = ?::timestamptz where id = ?`, [lastMonth().toISOString(), ids[0]]);
  await migrator.up({ migrations: [MIGRATION] });
  expect(await usageRows(carol.id)).toEqual([
    { month: iso(lastMonth()), uploads: 1 },
    { month: iso(thisMonth()), uploads: 2 },
  ]);
  // alice's figures, from her images, are what the upload path had counted.
  expect(await usageRows(alice.id)).toEqual([{ month: iso(thisMonth()), uploads: 3 }]);
}, 60_000);
