import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import { spawnServe, type ServeProcess } from '../../bench/serve-process';
import { seedEmbeddedDatabase } from '../support/embedded-template';
import type { TestServer } from '../support/server';
import { linkIn, startSmtpCapture } from './smtp-capture';
import { gql, M } from './helpers';

/**
 * Embedded PGlite, whose pool holds one connection: nothing may wait for a second one. PGlite does not
 * load inside Jest's VM, so this runs the built server (`npm run build` first), one for both cases.
 * - Issue [7], "The embedded database": resetPassword's audit row used to be written on a forked
 *   EntityManager from inside the transaction. The fork waited 60 s for a second connection (holding up
 *   every other request), then the row was dropped.
 * - User administration ([13]): inviteUser and deleteUser each run a transaction, and their audit rows
 *   are written after it. (Second: the first case counts the PASSWORD_RESET rows.)
 */
describe('embedded PGlite (one pooled connection)', () => {
  let serve: ServeProcess;
  let server: TestServer;
  let smtp: Awaited<ReturnType<typeof startSmtpCapture>>;
  let dataDir: string;
  const email = 'pglite-reset@example.org';
  const newPassword = 'granuloma annulare 34';
  const admin = { email: 'admin@pglite.test', password: 'an admin passphrase 1' };

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dg-pglite-one-connection-'));
    await seedEmbeddedDatabase(dataDir);
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

  // Bounded by the jest timeout (well under the old 60 s pool wait), never by a timing assertion.
  it('resetPassword answers, its audit row is kept, and the next query is served', async () => {
    expect((await gql(server, M.register, { input: { email, password: 'dermatofibroma 12' } })).errors).toBeUndefined();
    await smtp.waitFor(email); // the verification mail
    const before = smtp.messages.length;
    expect((await gql(server, M.requestReset, { email })).data).toEqual({ requestPasswordReset: true });
    const mail = await smtp.waitFor(email, before);
    expect(mail.headers.subject).toBe('Reset your password');
    const token = linkIn(mail.text).searchParams.get('token')!;

    expect(await gql(server, M.resetPassword, { token, newPassword })).toMatchObject({ data: { resetPassword: true } });
    // The database is free at once: the new password signs in, and the admin reads the audit row.
    const login = await gql(server, M.login, { email, password: newPassword });
    expect(login.data!.login.accessToken).toEqual(expect.any(String));
    const adminToken = (await gql(server, M.login, admin)).data!.login.accessToken as string;
    const audit = await gql(
      server,
      `query { auditLog(filter: { action: PASSWORD_RESET }, first: 10) { edges { node { action success userId userAgent } } } }`,
      {},
      { token: adminToken },
    );
    expect(audit.data!.auditLog.edges).toEqual([
      {
        node: {
          action: 'PASSWORD_RESET',
          success: true,
          userId: login.data!.login.user.id,
          userAgent: 'dermagraph-auth-test',
        },
      },
    ]);
  }, 25_000);

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
