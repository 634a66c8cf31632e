import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import { spawnServe, type ServeProcess } from '../../bench/serve-process';
import type { TestServer } from '../support/server';
import { linkIn, startSmtpCapture } from './smtp-capture';
import { gql, M } from './helpers';

/**
 * User administration ([13]) on embedded PGlite, whose pool holds one connection: inviteUser and
 * deleteUser each run a transaction, and their audit rows are written after it, so neither may
 * wait for a second connection. Runs the built server (`npm run build` first), as PGlite does not
 * load inside Jest's VM.
 */
describe('user administration on embedded PGlite (one pooled connection)', () => {
  let serve: ServeProcess;
  let server: TestServer;
  let smtp: Awaited<ReturnType<typeof startSmtpCapture>>;
  let dataDir: string;
  const admin = { email: 'admin@pglite-users.test', password: 'an admin passphrase 1' };

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dg-users-pglite-'));
    serve = await spawnServe(
      {
        DATA_DIR: dataDir,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        SMTP_URL: smtp.url,
        ALLOW_UNVERIFIED_LOGIN: '1',
        ADMIN_EMAIL: admin.email,
        ADMIN_PASSWORD: admin.password,
      },
      120_000,
    );
    server = { url: serve.url } as TestServer;
  }, 180_000);
  afterAll(async () => {
    await serve?.stop();
    await smtp?.close();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  // Bounded by the jest timeout, never by a timing assertion.
  it('an invitation is accepted, and a clinician is deleted with its patients transferred to the invitee', async () => {
    const adminToken = (await gql(server, M.login, admin)).data!.login.accessToken as string;
    const as = { token: adminToken };
    const invite = await gql(
      server,
      `mutation { inviteUser(input: { email: "successor@example.org", name: "Dr Next" }) { id } }`,
      {},
      as,
    );
    expect(invite.errors).toBeUndefined();
    const token = linkIn((await smtp.waitFor('successor@example.org')).text).searchParams.get('token')!;
    const password = 'seborrhoeic keratosis 5';
    expect(await gql(server, M.resetPassword, { token, newPassword: password })).toMatchObject({
      data: { resetPassword: true },
    });
    const successorId = invite.data!.inviteUser.id as string;

    const leaving = 'leaving@example.org';
    expect((await gql(server, M.register, { input: { email: leaving, password } })).errors).toBeUndefined();
    const leaverToken = (await gql(server, M.login, { email: leaving, password })).data!.login.accessToken as string;
    const created = await gql(
      server,
      `mutation { createPatient(input: { externalId: "MRN-1", displayName: "P One" }) { id } }`,
      {},
      { token: leaverToken },
    );
    const patientId = created.data!.createPatient.id as string;
    const leaverId = (await gql(server, M.me, {}, { token: leaverToken })).data!.me.id as string;

    const del = await gql(
      server,
      `mutation($u: ID!, $s: ID) { deleteUser(userId: $u, successorId: $s) { outcome patientsTransferred } }`,
      { u: leaverId, s: successorId },
      as,
    );
    expect(del.data!.deleteUser).toEqual({ outcome: 'ANONYMISED', patientsTransferred: 1 });
    // The one connection is free: the successor reads the patient (a PATIENT_READ row), the admin the audit log.
    const successorToken = (await gql(server, M.login, { email: 'successor@example.org', password })).data!.login
      .accessToken as string;
    const read = await gql(
      server,
      `query($id: ID!) { patient(id: $id) { owner { id } } }`,
      { id: patientId },
      {
        token: successorToken,
      },
    );
    expect(read.data!.patient.owner.id).toBe(successorId);
    const audit = await gql(
      server,
      `query { auditLog(filter: { success: true }, first: 50) { edges { node { action } } } }`,
      {},
      as,
    );
    expect(audit.data!.auditLog.edges.map((e: any) => e.node.action)).toEqual(
      expect.arrayContaining(['USER_INVITED', 'USER_DELETED', 'PATIENT_READ', 'PASSWORD_RESET']),
    );
  }, 40_000);
});
