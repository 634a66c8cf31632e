import { startTestServer, type TestServer } from '../support/server';
import { linkIn, startSmtpCapture } from './smtp-capture';
import { createVerifiedUser, gql, M, onlyError } from './helpers';

/**
 * Issue [7]: a reset link still worked after changePassword / logoutAllSessions. A password change,
 * "sign out everywhere" and an admin disabling the account now cancel every outstanding link.
 */
describe('accounts: outstanding reset links are cancelled', () => {
  let server: TestServer;
  let smtp: Awaited<ReturnType<typeof startSmtpCapture>>;
  const admin = { email: 'admin@reset-links.test', password: 'an admin passphrase 1' };
  const ip = '198.51.100.120';

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    server = await startTestServer({
      env: { SMTP_URL: smtp.url, ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password },
    });
  });
  afterAll(async () => {
    await server?.close();
    await smtp?.close();
  });

  const signIn = async (email: string, password: string) =>
    (await gql(server, M.login, { email, password }, { ip })).data!.login;
  const resetLink = async (email: string): Promise<string> => {
    const before = smtp.messages.length;
    expect((await gql(server, M.requestReset, { email }, { ip })).data).toEqual({ requestPasswordReset: true });
    await server.services.auth.drainBackground();
    return linkIn((await smtp.waitFor(email, before)).text).searchParams.get('token')!;
  };
  const expectCancelled = async (token: string, email: string, password: string) => {
    const res = await gql(server, M.resetPassword, { token, newPassword: 'set by an old link 1' }, { ip });
    expect(onlyError(res).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'token',
      reason: 'TOKEN_INVALID',
    });
    // The password is the one the owner last chose, not the link's.
    expect(
      onlyError(await gql(server, M.login, { email, password: 'set by an old link 1' }, { ip })).extensions,
    ).toMatchObject({ reason: 'INVALID_CREDENTIALS' });
    expect((await signIn(email, password)).accessToken).toEqual(expect.any(String));
  };

  it('after changePassword', async () => {
    const email = 'changer@example.org';
    await createVerifiedUser(server, smtp, email, 'first passphrase 11');
    const session = await signIn(email, 'first passphrase 11');
    const token = await resetLink(email);
    const changed = await gql(
      server,
      M.changePassword,
      { currentPassword: 'first passphrase 11', newPassword: 'second passphrase 22' },
      { token: session.accessToken, ip },
    );
    expect(changed.data).toEqual({ changePassword: true });
    await expectCancelled(token, email, 'second passphrase 22');
  });

  it('after logoutAllSessions', async () => {
    const email = 'leaver@example.org';
    await createVerifiedUser(server, smtp, email, 'first passphrase 11');
    const session = await signIn(email, 'first passphrase 11');
    const token = await resetLink(email);
    expect((await gql(server, M.logoutAll, {}, { token: session.accessToken, ip })).data).toEqual({
      logoutAllSessions: 1,
    });
    await expectCancelled(token, email, 'first passphrase 11');
  });

  it('after an admin disables the account (and enables it again)', async () => {
    const email = 'disabled@example.org';
    const userId = await createVerifiedUser(server, smtp, email, 'first passphrase 11');
    const token = await resetLink(email);
    const adminToken = (await signIn(admin.email, admin.password)).accessToken;
    expect(
      (await gql(server, M.setUserDisabled, { userId, disabled: true }, { token: adminToken })).errors,
    ).toBeUndefined();
    expect(
      (await gql(server, M.setUserDisabled, { userId, disabled: false }, { token: adminToken })).errors,
    ).toBeUndefined();
    await expectCancelled(token, email, 'first passphrase 11');
  });

  it('a link asked for after the change works', async () => {
    const token = await resetLink('changer@example.org');
    expect((await gql(server, M.resetPassword, { token, newPassword: 'third passphrase 33' }, { ip })).data).toEqual({
      resetPassword: true,
    });
    expect((await signIn('changer@example.org', 'third passphrase 33')).accessToken).toEqual(expect.any(String));
  });
});
