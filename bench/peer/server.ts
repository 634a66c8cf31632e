import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createBenchDatabase } from '../harness';
import { spawnServe } from '../serve-process';
import { gql } from './client';

export type Mode = 'embedded' | 'postgresql';

/** This server as `npm start` runs it, with a signed-in clinician and a patient to upload to. */
export interface ServerUnderTest {
  mode: Mode;
  url: string;
  pid: number;
  token: string;
  patientId: string;
  /** The PostgreSQL database's name in postgresql mode (whose backends' CPU is charged to the server). */
  database?: string;
  /** Its URL (postgresql mode). */
  databaseUrl?: string;
  /** The environment it was started with, secrets left out (for the JSON). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Defaults everywhere except what a bench needs: production mode (with its required secrets), a free port,
 * quotas out of the way, login without the email round trip. embedded: no DATABASE_URL, so PGlite under
 * DATA_DIR inside the API process; postgresql: a fresh database on DATABASE_URL's (or the local) server.
 */
export async function startServerUnderTest(
  mode: Mode,
  opts: { nodeArgs?: string[]; env?: Record<string, string> } = {},
): Promise<ServerUnderTest> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), `dg-bench-peer-${mode}-`));
  const db = mode === 'postgresql' ? await createBenchDatabase('peer') : null;
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    ALLOW_UNVERIFIED_LOGIN: '1',
    QUOTA_FREE_UPLOADS_PER_MONTH: '10000000',
    QUOTA_FREE_PREDICTIONS_PER_MONTH: '10000000',
    ...(db ? { DATABASE_URL: db.url } : {}),
  };
  const secrets = {
    TOTP_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    URL_SIGNING_SECRET: randomBytes(32).toString('hex'),
  };
  const cleanup = async () => {
    await db?.drop();
    await fs.rm(dataDir, { recursive: true, force: true });
  };
  let serve;
  try {
    serve = await spawnServe({ ...env, ...opts.env, ...secrets }, 180_000, opts.nodeArgs);
  } catch (e) {
    await cleanup();
    throw e;
  }
  const stop = async () => {
    await serve.stop();
    await cleanup();
  };
  try {
    const url = serve.url;
    const { token, patientId } = await signUpWithPatient(url);
    const database = db ? new URL(db.url).pathname.slice(1) : undefined;
    const { DATA_DIR: _d, DATABASE_URL: _u, ...shown } = env;
    return { mode, url, pid: serve.child.pid!, token, patientId, database, databaseUrl: db?.url, env: shown, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** A new account on the server at `url` (signed in; the bench's servers take sign-ups without the email round trip) with a patient. */
export async function signUpWithPatient(url: string): Promise<{ token: string; patientId: string }> {
  const email = `bench-peer-${randomUUID().slice(0, 8)}@example.test`;
  const password = `Bench-${randomUUID()}`;
  await gql(url, 'mutation($i: RegisterInput!) { register(input: $i) { id } }', { i: { email, password } });
  const login = 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }';
  const token = (await gql(url, login, { e: email, p: password })).login.accessToken as string;
  const patient = 'mutation { createPatient(input: { externalId: "BENCH-PEER", displayName: "Bench" }) { id } }';
  const patientId = (await gql(url, patient, {}, token)).createPatient.id as string;
  return { token, patientId };
}
