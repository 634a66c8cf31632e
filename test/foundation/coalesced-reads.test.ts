import 'reflect-metadata';
import { MikroORM } from '@mikro-orm/postgresql';
import { ormConfig } from '../../src/infra/database/database';
import { coalescedRead, inOrder } from '../../src/infra/database/coalesced-reads';
import { createTestDatabase } from '../support/database';

/**
 * coalescedRead on real PostgreSQL. Statements of one round trip share its implicit transaction, so they see
 * the same `now()` and backend; reads sent in separate round trips see different ones.
 */
let orm: MikroORM;
beforeAll(async () => {
  orm = await MikroORM.init(ormConfig(await createTestDatabase(), { poolMax: 3 }));
});
afterAll(() => orm?.close(true));

const sql = (text: string, ...params: unknown[]) => ({ sql: text, params });
const WHEN = 'select pg_backend_pid() as pid, now()::text as at, ?::int as x';

it('reads issued in the same tick travel as one round trip, each answered its own rows', async () => {
  const em = orm.em.fork();
  const rows = await Promise.all([1, 2, 3].map((x) => coalescedRead(em, sql(WHEN, x))));
  expect(rows.map((r) => r[0].x)).toEqual([1, 2, 3]);
  expect(new Set(rows.map((r) => `${r[0].pid} ${r[0].at}`)).size).toBe(1);

  // One after the other: a round trip each.
  const first = await coalescedRead(em, sql(WHEN, 1));
  const second = await coalescedRead(em, sql(WHEN, 2));
  expect(first[0].at).not.toBe(second[0].at);
});

it('another EntityManager (another request) is never in the same round trip', async () => {
  const [a, b] = await Promise.all([
    coalescedRead(orm.em.fork(), sql(WHEN, 1)),
    coalescedRead(orm.em.fork(), sql(WHEN, 2)),
  ]);
  expect(a[0].at).not.toBe(b[0].at);
});

it('a statement that fails outside a transaction fails alone: its neighbours get their rows', async () => {
  const em = orm.em.fork();
  const [ok1, bad, ok2] = await Promise.allSettled([
    coalescedRead(em, sql('select ?::int as x', 1)),
    coalescedRead(em, sql('select ?::uuid as id', 'not a uuid')),
    coalescedRead(em, sql('select ?::int as x', 2)),
  ]);
  expect(ok1).toEqual({ status: 'fulfilled', value: [{ x: 1 }] });
  expect(bad).toMatchObject({
    status: 'rejected',
    reason: expect.objectContaining({ message: expect.stringMatching(/uuid/) }),
  });
  expect(ok2).toEqual({ status: 'fulfilled', value: [{ x: 2 }] });
});

it('inside a transaction the batch shares its fate: every read gets the error, and the transaction rolls back', async () => {
  const em = orm.em.fork();
  await em.getConnection().execute('create table if not exists cr_rows (v int)');
  await expect(
    em.transactional(async (tem) => {
      await tem.getConnection().execute('insert into cr_rows values (1)', [], 'run', tem.getTransactionContext());
      await Promise.all([
        coalescedRead(tem, sql('select ?::int as x', 1)),
        coalescedRead(tem, sql('select ?::uuid as id', 'not a uuid')),
      ]);
    }),
  ).rejects.toThrow(/uuid/);
  expect(await em.getConnection().execute('select count(*)::int as n from cr_rows')).toEqual([{ n: 0 }]);
});

describe('inOrder', () => {
  const later = <T>(ms: number, f: () => T) =>
    new Promise<T>((resolve, reject) =>
      setTimeout(() => {
        try {
          resolve(f());
        } catch (e) {
          reject(e);
        }
      }, ms),
    );

  it('answers the values in order, as Promise.all', async () => {
    await expect(inOrder([later(5, () => 1), 'b', null, Promise.resolve(true)])).resolves.toEqual([1, 'b', null, true]);
  });

  it('throws the first error in the order given, not the first to happen, once every check has settled', async () => {
    let settled = false;
    const first = later(20, () => {
      settled = true;
      throw new Error('first');
    });
    const second = Promise.reject(new Error('second'));
    await expect(inOrder([Promise.resolve(0), first, second])).rejects.toThrow('first');
    expect(settled).toBe(true);
  });
});
