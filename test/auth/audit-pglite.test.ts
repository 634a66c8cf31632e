import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import { spawnServe, type ServeProcess } from '../../bench/serve-process';
import type { TestServer } from '../support/server';
import { linkIn, startSmtpCapture } from './smtp-capture';
import { gql, M } from './helpers';

/**
 * Issue [7], "The embedded database": on PGlite the pool holds one connection, and resetPassword's
 * audit row used to be written on a forked EntityManager from inside the transaction. The fork
 * waited 60 s for a second connection (holding up every other request), then the row was dropped.
 * PGlite does not load inside Jest's VM, so this runs the built server (`npm run build` first).
 */
describe('audit rows on embedded PGlite (one pooled connection)', () => {
  let serve: ServeProcess;
  let server: TestServer;
  let smtp: Awaited<ReturnType<typeof startSmtpCapture>>;
  let dataDir: string;
  const email = 'pglite-reset@example.org';
  const newPassword = 'granuloma annulare 34';
  const admin = { email: 'admin@pglite.test', password: 'an admin passphrase 1' };

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dg-audit-pglite-'));
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
});
