import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Role } from '../../src/entities';
import { AppError } from '../../src/infra/errors';
import { executeBatch, type Statement } from '../../src/infra/database/sql';
import { uploadImages as uploadService } from '../../src/modules/images/uploads.service';
import { monthStart, quotaGuard, type QuotaAsk } from '../../src/modules/quotas';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { createPatient, fixture, JPEGS } from './helpers';

/**
 * quotaGuard: the exact quota check as a statement of the batch that writes and commits, so the quota's lock is
 * held only while PostgreSQL runs that batch. Its refusal is the early check's RATE_LIMITED, and it commits nothing.
 */
const LIMITS = {
  QUOTA_FREE_UPLOADS_PER_MONTH: '5',
  QUOTA_FREE_PREDICTIONS_PER_MONTH: '3',
  QUOTA_PRO_UPLOADS_PER_MONTH: '50',
  QUOTA_PRO_PREDICTIONS_PER_MONTH: '30',
};

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: LIMITS });
}, 60_000);
afterAll(() => server?.close());

const em = () => server.services.db.orm.em.fork();
const sql = (text: string, params: unknown[] = []) => em().getConnection().execute(text, params);
const month = () => monthStart(new Date()).toISOString().slice(0, 10);
const setUsage = (userId: string, uploads: number, predictions: number) =>
  sql(
    `insert into prediction_usage (owner_id, month, uploads, count) values (?, ?::date, ?, ?)
     on conflict (owner_id, month) do update set uploads = excluded.uploads, count = excluded.count`,
    [userId, month(), uploads, predictions],
  );
const usage = async (userId: string) =>
  (await sql(`select uploads, count from prediction_usage where owner_id = ? and month = ?::date`, [
    userId,
    month(),
  ])) as { uploads: number; count: number }[];
/** The guard, then a write of what it guards (one more upload counted), in one implicit transaction. */
const guarded = async (userId: string, asks: QuotaAsk[]) => {
  const guard = quotaGuard(server.config, userId, asks);
  const write: Statement = {
    sql: `update prediction_usage set uploads = uploads + 1 where owner_id = ? and month = ?::date`,
    params: [userId, month()],
  };
  return executeBatch(em(), [...guard.statements, write]).then(
    () => 'passed',
    (err: unknown) => guard.refused(err),
  );
};

describe('quotaGuard', () => {
  let user: SignedInUser;
  beforeEach(async () => {
    user = await createSignedInUser(server);
  });

  it('passes what fits and writes it', async () => {
    await setUsage(user.id, 4, 2);
    expect(
      await guarded(user.id, [
        { kind: 'uploads', adding: 1 },
        { kind: 'predictions', adding: 1 },
      ]),
    ).toBe('passed');
    expect(await usage(user.id)).toEqual([{ uploads: 5, count: 2 }]);
  });

  it('refuses the first ask over its limit, in order, with its figures, and commits nothing', async () => {
    await setUsage(user.id, 4, 2);
    const predictions = await guarded(user.id, [
      { kind: 'uploads', adding: 1 },
      { kind: 'predictions', adding: 2 },
    ]);
    expect(predictions).toBeInstanceOf(AppError);
    expect((predictions as AppError).extensions).toMatchObject({
      code: 'RATE_LIMITED',
      reason: 'QUOTA_EXCEEDED',
      quota: 'predictions',
      plan: 'FREE',
      limit: 3,
      used: 2,
    });
    expect((predictions as AppError).message).toBe(
      'Monthly predictions quota of the FREE plan reached (2 of 3 used; 2 more asked)',
    );
    const both = await guarded(user.id, [
      { kind: 'uploads', adding: 2 },
      { kind: 'predictions', adding: 2 },
    ]);
    expect((both as AppError).extensions).toMatchObject({ quota: 'uploads', limit: 5, used: 4 });
    expect(await usage(user.id)).toEqual([{ uploads: 4, count: 2 }]);
  });

  it("takes the limits of the user's plan as it is when the batch runs", async () => {
    await setUsage(user.id, 5, 3);
    const asks: QuotaAsk[] = [
      { kind: 'uploads', adding: 1 },
      { kind: 'predictions', adding: 1 },
    ];
    expect(await guarded(user.id, asks)).toBeInstanceOf(AppError);
    await sql(`update users set plan = 'PRO' where id = ?`, [user.id]);
    expect(await guarded(user.id, asks)).toBe('passed');
  });

  it('counts the images of jobs still queued against predictions', async () => {
    await setUsage(user.id, 0, 1);
    // A classification of two images recorded and not yet run (no results), as the API records one.
    await sql(
      `insert into inference_jobs (id, created_at, updated_at, owner_id, kind, status, stage, progress, attempts, request, result_ids, total)
       values (gen_random_uuid(), now(), now(), ?, 'CLASSIFY', 'QUEUED', 'queued', 0, 0, '{}'::jsonb, '[]'::jsonb, 2)`,
      [user.id],
    );
    const over = await guarded(user.id, [{ kind: 'predictions', adding: 1 }]);
    expect((over as AppError).extensions).toMatchObject({ quota: 'predictions', used: 3 });
  });

  it('answers any other error as it is', async () => {
    const guard = quotaGuard(server.config, 'not a uuid', [{ kind: 'uploads', adding: 1 }]);
    const err = await executeBatch(em(), guard.statements).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(AppError);
    expect(guard.refused(err)).toBe(err);
  });
});

describe('an upload holds its locks only while its commit runs', () => {
  it('its quota and file locks are free once its files are placed, before its one round trip', async () => {
    const alice = await createSignedInUser(server, { role: Role.CLINICIAN });
    const patientId = await createPatient(server, alice.token);
    const data = Buffer.concat([fixture(JPEGS[0]), Buffer.from('#quota-guard')]);
    const sha = createHash('sha256').update(data).digest('hex');
    // Another session asks for each lock without waiting (released at once: autocommit).
    const free = async (key: string) =>
      ((await sql(`select pg_try_advisory_xact_lock(hashtextextended(?, 0)) as got`, [key])) as { got: boolean }[])[0]
        .got;
    const seen: boolean[] = [];
    const file = Promise.resolve({
      filename: 'a.jpg',
      mimetype: 'image/jpeg',
      createReadStream: () => Readable.from([data]),
    });
    const images = await uploadService(
      { em: em(), store: server.services.files, config: server.config },
      { id: alice.id, role: Role.CLINICIAN },
      { patientId, files: [file] },
      {
        afterFilesPlaced: async () => {
          seen.push(await free(`quota:uploads:${alice.id}`), await free(sha));
        },
      },
    );
    expect(images).toHaveLength(1);
    expect(seen).toEqual([true, true]);
    expect(await usage(alice.id)).toEqual([{ uploads: 1, count: 0 }]);
  });
});
