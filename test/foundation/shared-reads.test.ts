import 'reflect-metadata';
import { MikroORM } from '@mikro-orm/postgresql';
import { ormConfig } from '../../src/infra/database/database';
import { BatchedTransaction } from '../../src/infra/database/batched-transaction';
import { coalescedRead } from '../../src/infra/database/coalesced-reads';
import { shareReads } from '../../src/infra/database/shared-reads';
import { createTestDatabase } from '../support/database';

/**
 * shareReads on real PostgreSQL through one connection, as embedded mode reaches PGlite: reads of different
 * requests (EntityManagers) that wait for the connection go together, in one round trip. Statements of one round
 * trip share its implicit transaction, so they see the same `now()`; separate round trips see different ones.
 */
let orm: MikroORM;
let url: string;
beforeAll(async () => {
  url = await createTestDatabase();
  orm = await MikroORM.init(ormConfig(url, { poolMax: 1 }));
  shareReads(orm.em);
});
afterAll(() => orm?.close(true));

const sql = (text: string, ...params: unknown[]) => ({ sql: text, params });
const WHEN = 'select now()::text as at, ?::int as x';
const read = (x: number) => coalescedRead(orm.em.fork(), sql(WHEN, x));

/** The one connection held by a transaction until `release` is called (and the transaction's now()). */
async function holdConnection() {
  const tx = await BatchedTransaction.open(orm.em.fork());
  const [[{ at }]] = await tx.send([sql('select now()::text as at')]);
  return { at, release: () => tx.close() };
}

it("with the connection free, a request's read goes at once, alone", async () => {
  const first = await read(1);
  const second = await read(2);
  expect([first[0].x, second[0].x]).toEqual([1, 2]);
  expect(first[0].at).not.toBe(second[0].at);
});

it('reads of different requests waiting for the connection go as one round trip, each answered its own rows', async () => {
  const held = await holdConnection();
  const waiting = Promise.all([1, 2, 3, 4, 5].map(read));
  await new Promise((r) => setTimeout(r, 50));
  await held.release();
  const rows = await waiting;
  expect(rows.map((r) => r[0].x)).toEqual([1, 2, 3, 4, 5]);
  expect(new Set(rows.map((r) => r[0].at)).size).toBe(1);
  expect(rows[0][0].at).not.toBe(held.at);
});

it('a burst larger than one round trip takes is sent in parts, in order', async () => {
  const held = await holdConnection();
  const waiting = Promise.all(Array.from({ length: 100 }, (_, i) => read(i)));
  await new Promise((r) => setTimeout(r, 50));
  await held.release();
  const rows = await waiting;
  expect(rows.map((r) => r[0].x)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  expect(new Set(rows.map((r) => r[0].at)).size).toBe(2);
});

it('a statement that fails fails alone: the other requests get their rows', async () => {
  const held = await holdConnection();
  const waiting = Promise.allSettled([
    read(1),
    coalescedRead(orm.em.fork(), sql('select ?::uuid as id', 'not a uuid')),
    read(3),
  ]);
  await new Promise((r) => setTimeout(r, 50));
  await held.release();
  const [ok1, bad, ok3] = await waiting;
  expect(ok1).toMatchObject({ status: 'fulfilled', value: [{ x: 1 }] });
  expect(bad).toMatchObject({
    status: 'rejected',
    reason: expect.objectContaining({ message: expect.stringMatching(/uuid/) }),
  });
  expect(ok3).toMatchObject({ status: 'fulfilled', value: [{ x: 3 }] });
});

it("a read inside a transaction goes on the transaction's connection (it would wait for itself otherwise)", async () => {
  const seen = await orm.em.fork().transactional(async (tem) => {
    const [{ at }] = (await tem.execute('select now()::text as at')) as { at: string }[];
    const rows = await coalescedRead(tem, sql(WHEN, 7));
    return { at, rows };
  });
  expect(seen.rows).toEqual([{ at: seen.at, x: 7 }]);
});

it('without a connection to be had, every waiting read gets the error instead of waiting for ever', async () => {
  const closed = await MikroORM.init(ormConfig(url, { poolMax: 1 }));
  shareReads(closed.em);
  const em = closed.em.fork();
  await closed.close(true);
  await expect(coalescedRead(em, sql(WHEN, 1))).rejects.toThrow();
});

it("a parameter is a value, never SQL, whoever else's reads share the round trip", async () => {
  const hostile = `x'; drop table mikro_orm_migrations; select '\\' $$ $a$ --`;
  const held = await holdConnection();
  const waiting = Promise.all([coalescedRead(orm.em.fork(), sql('select ?::text as v', hostile)), read(2)]);
  await new Promise((r) => setTimeout(r, 50));
  await held.release();
  const [[hostileRow], [other]] = await waiting;
  expect(hostileRow.v).toBe(hostile);
  expect(other.x).toBe(2);
  expect(await coalescedRead(orm.em.fork(), sql(`select count(*)::int as n from mikro_orm_migrations`))).toEqual([
    { n: expect.any(Number) },
  ]);
});
