import 'reflect-metadata';
import { MikroORM } from '@mikro-orm/postgresql';
import { ormConfig } from '../../src/infra/database/database';
import { BatchedTransaction } from '../../src/infra/database/batched-transaction';
import { createTestDatabase } from '../support/database';

/** BatchedTransaction on real PostgreSQL: batches, commit, rollback, a failure mid-batch, and lock-then-count. */
let orm: MikroORM;
beforeAll(async () => {
  orm = await MikroORM.init(ormConfig(await createTestDatabase(), { poolMax: 3 }));
  await orm.em.getConnection().execute('create table bt_rows (v int primary key)');
});
afterAll(() => orm?.close(true));

const sql = (text: string, ...params: unknown[]) => ({ sql: text, params });
const count = async () =>
  ((await orm.em.fork().getConnection().execute('select count(*)::int as n from bt_rows')) as Array<{ n: number }>)[0]
    .n;

it('answers every statement of a batch its rows, keeps them unseen until the commit that rides with the last batch', async () => {
  const before = await count();
  const tx = await BatchedTransaction.open(orm.em.fork());
  try {
    const [a, b] = await tx.send([
      sql('select ?::int as x', 1),
      sql('insert into bt_rows values (?), (?) returning v', 1, 2),
    ]);
    expect(a).toEqual([{ x: 1 }]);
    expect(b).toEqual([{ v: 1 }, { v: 2 }]);
    expect(await count()).toBe(before); // other connections do not see it yet
    const [c] = await tx.commitWith([sql('insert into bt_rows values (?) returning v', 3)]);
    expect(c).toEqual([{ v: 3 }]);
  } finally {
    await tx.close();
  }
  expect(await count()).toBe(before + 3);
  await expect(tx.send([sql('select 1')])).rejects.toThrow(/ended/);
});

it('rolls back on close without a commit, and commits nothing when a statement of the last batch fails', async () => {
  const before = await count();
  const open = await BatchedTransaction.open(orm.em.fork());
  await open.send([sql('insert into bt_rows values (?)', 10)]);
  await open.close();
  expect(await count()).toBe(before);

  const failing = await BatchedTransaction.open(orm.em.fork());
  try {
    await failing.send([sql('insert into bt_rows values (?)', 11)]);
    await expect(failing.commitWith([sql('insert into bt_rows values (?)', 11)])).rejects.toThrow(/duplicate key/);
  } finally {
    await failing.close();
  }
  expect(await count()).toBe(before);
  // Every pooled connection is usable after (none was given back inside an aborted transaction).
  const counts = await Promise.all(Array.from({ length: 6 }, () => count()));
  expect(counts).toEqual(Array(6).fill(before));
});

it('a count sent after a lock, in one batch, sees what committed while the lock was awaited', async () => {
  const holder = await BatchedTransaction.open(orm.em.fork());
  const waiter = await BatchedTransaction.open(orm.em.fork());
  try {
    await holder.send([sql('select pg_advisory_xact_lock(?)', 4242)]);
    const counted = waiter.send([
      sql('select pg_advisory_xact_lock(?)', 4242),
      sql('select count(*)::int as n from bt_rows'),
    ]);
    // The waiter is queued on the lock before the holder writes and commits.
    const waiting = async () =>
      (
        (await orm.em
          .fork()
          .getConnection()
          .execute("select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted")) as Array<{
          n: number;
        }>
      )[0].n;
    for (let i = 0; i < 200 && (await waiting()) === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await waiting()).toBe(1);
    const before = await count();
    await holder.commitWith([sql('insert into bt_rows values (?)', 20)]);
    const [, [{ n }]] = await counted;
    expect(n).toBe(before + 1);
  } finally {
    await holder.close();
    await waiter.close();
  }
});
