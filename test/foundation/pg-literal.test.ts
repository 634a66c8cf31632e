import 'reflect-metadata';
import { MikroORM } from '@mikro-orm/postgresql';
import { escapeLiteral } from 'pg';
import { ormConfig } from '../../src/infra/database/database';
import { BatchedTransaction } from '../../src/infra/database/batched-transaction';
import { pgLiteral, writeStringsWhole } from '../../src/infra/database/pg-literal';
import { createTestDatabase } from '../support/database';

/** pgLiteral writes what node-postgres' escapeLiteral writes, and PostgreSQL reads every string back as it was. */
const HOSTILE = [
  '',
  'plain',
  "it's",
  "''",
  '\\',
  'a\\b',
  "\\'",
  "'; drop table t; --",
  '$$ dollar $$',
  "E'\\x00'",
  'ünïcödé 🩺 \u2028',
  '{"json": "with \\"quotes\\" and \'apostrophes\'"}',
  'line\nbreak\ttab',
];

it('writes the driver’s literal for hostile and random strings', () => {
  for (const s of HOSTILE) expect(pgLiteral(s)).toBe(escapeLiteral(s));
  const alphabet = ["'", '\\', 'a', ' ', 'é', '"', '\n', 'E', '$'];
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  for (let n = 0; n < 2000; n++) {
    const s = Array.from({ length: next() % 40 }, () => alphabet[next() % alphabet.length]).join('');
    expect(pgLiteral(s)).toBe(escapeLiteral(s));
  }
});

let orm: MikroORM;
beforeAll(async () => {
  orm = await MikroORM.init(ormConfig(await createTestDatabase(), { poolMax: 2 }));
});
afterAll(() => orm?.close(true));

it('leaves the text the platform writes unchanged, strings or not, and PostgreSQL reads each string back', async () => {
  const platform = orm.em.getPlatform();
  const params = [...HOSTILE, 42, 1.5, null, true, new Date('2026-12-03T04:05:06.789Z'), Buffer.from([0, 1, 255])];
  const sql = params.map(() => '?').join(', ');
  const before = platform.formatQuery(`select ${sql}`, params);
  writeStringsWhole(platform as never);
  expect(platform.formatQuery(`select ${sql}`, params)).toBe(before);
  const tx = await BatchedTransaction.open(orm.em.fork());
  try {
    const [rows] = await tx.commitWith([
      { sql: `select ${HOSTILE.map((_, i) => `?::text as s${i}`).join(', ')}`, params: HOSTILE },
    ]);
    expect(Object.values(rows[0])).toEqual(HOSTILE);
  } finally {
    await tx.close();
  }
});
