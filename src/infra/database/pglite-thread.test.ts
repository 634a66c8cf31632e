import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { seedEmbeddedDatabase } from '../../../test/support/embedded-template';
import { startPgliteThread } from './pglite-thread';

/** A client on the thread's socket (node-postgres takes the socket's folder as the host). */
async function connect(socketDir: string): Promise<Client> {
  const client = new Client({ host: socketDir, port: 5432, user: 'postgres', database: 'postgres' });
  await client.connect();
  return client;
}

describe('PGlite on its own thread', () => {
  let root: string;
  let dir: string;
  beforeEach(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-pglite-thread-'));
    // An initialised database (PGlite's initdb is seconds of WASM; these tests are about the thread).
    await seedEmbeddedDatabase(root);
    dir = path.join(root, 'pglite');
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('serves statements over its socket, and what it stored is there after a stop and a new start', async () => {
    const socket = path.join(root, '.s.PGSQL.5432');
    const crashes: string[] = [];
    let thread = await startPgliteThread(dir, socket, (r) => crashes.push(r));
    let client = await connect(root);
    await client.query('create table t (n int)');
    await client.query('insert into t values (41), (1)');
    await client.end();
    await thread.stop();

    thread = await startPgliteThread(dir, socket, (r) => crashes.push(r));
    client = await connect(root);
    const { rows } = await client.query('select sum(n)::int as s from t');
    expect(rows).toEqual([{ s: 42 }]);
    await client.end();
    await thread.stop();
    await thread.stop(); // a second stop is a no-op
    expect(crashes).toEqual([]); // stopping is not reported as the thread ending unexpectedly
  });

  it('rejects with the cause when the server cannot listen, leaving no thread behind', async () => {
    const socket = path.join(root, 'no-such-folder', '.s.PGSQL.5432');
    await expect(startPgliteThread(dir, socket, () => undefined)).rejects.toThrow(/listen E(ACCES|NOENT)/);
  });
});
