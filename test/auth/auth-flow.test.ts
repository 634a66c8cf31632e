import { AuditLog, User } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { linkIn, startSmtpCapture } from './smtp-capture';
import { gql, M, oathtoolCode, onlyError } from './helpers';

/**
 * The whole accounts flow on real PostgreSQL, Redis and SMTP, in order:
 * register -> mail -> verify -> login -> enrol 2FA -> login with TOTP -> refresh -> rotate ->
 * reuse detected -> family revoked -> reset password -> old sessions dead.
 */
describe('accounts: the whole flow', () => {
  let server: TestServer;
  let smtp: Awaited<ReturnType<typeof startSmtpCapture>>;
  const ip = '198.51.100.10';
  const email = 'Jane.Flow@Example.org';
  const password = 'lichen planus 42';
  const newPassword = 'seborrhoeic keratosis 7';
  const s: Record<string, any> = {};

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    server = await startTestServer({
      env: {
        SMTP_URL: smtp.url,
        MAIL_FROM: 'Dermagraph <no-reply@dermagraph.test>',
        PUBLIC_URL: 'https://derm.example.org',
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    await smtp?.close();
  });
  const drain = () => server.services.auth.drainBackground();

  it('register normalises the email, refuses a common password, answers a taken address like a new one', async () => {
    const weak = await gql(server, M.register, { input: { email, password: 'password1' } }, { ip });
    expect(onlyError(weak).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'password', reason: 'COMMON' });
    const res = await gql(server, M.register, { input: { email, password, name: 'Jane Flow' } }, { ip });
    expect(res.errors).toBeUndefined();
    expect(res.data!.register).toMatchObject({
      email: 'jane.flow@example.org',
      role: 'CLINICIAN',
      emailVerified: false,
    });
    s.userId = res.data!.register.id;
    // Issue [7]: no CONFLICT that would tell the address has an account (test/auth/enumeration.test.ts).
    const again = await gql(server, M.register, { input: { email: 'jane.flow@EXAMPLE.org', password } }, { ip });
    expect(again.errors).toBeUndefined();
    expect(again.data!.register).toMatchObject({
      email: 'jane.flow@example.org',
      role: 'CLINICIAN',
      emailVerified: false,
    });
    expect(again.data!.register.id).not.toBe(s.userId);
  });

  it('mails a verification link (read from the SMTP server); signing in waits for it', async () => {
    await drain();
    // The second register of the unverified address sent a fresh link, which replaced the first.
    const mails = smtp.messages.filter((m) => m.envelopeTo.includes('jane.flow@example.org'));
    expect(mails.map((m) => m.headers.subject)).toEqual(['Confirm your email address', 'Confirm your email address']);
    const mail = mails[1];
    const link = linkIn(mail.text);
    expect(`${link.origin}${link.pathname}`).toBe('https://derm.example.org/verify-email');
    s.verifyToken = link.searchParams.get('token');
    expect(s.verifyToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const early = await gql(server, M.login, { email, password }, { ip });
    expect(onlyError(early).extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'EMAIL_NOT_VERIFIED' });
  });

  it('verifyEmail works once; the token is stored only as a hash', async () => {
    const res = await gql(server, M.verifyEmail, { token: s.verifyToken }, { ip });
    expect(res.data!.verifyEmail).toMatchObject({ id: s.userId, emailVerified: true });
    const reused = await gql(server, M.verifyEmail, { token: s.verifyToken }, { ip });
    expect(onlyError(reused).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'token',
      reason: 'TOKEN_USED',
    });
    const rows = await server.services.db.orm.em.fork().getConnection().execute('select token_hash from email_tokens');
    expect(JSON.stringify(rows)).not.toContain(s.verifyToken);
  });

  it('login gives a 15-minute access token and a refresh token; me works with it', async () => {
    const res = await gql(server, M.login, { email: 'JANE.FLOW@example.org', password }, { ip });
    expect(res.errors).toBeUndefined();
    const p = res.data!.login;
    expect(p).toMatchObject({ twoFactorRequired: false, challengeToken: null, user: { id: s.userId } });
    const claims = JSON.parse(Buffer.from(p.accessToken.split('.')[1], 'base64url').toString());
    expect(claims.exp - claims.iat).toBe(900);
    const me = await gql(server, M.me, {}, { token: p.accessToken, ip });
    expect(me.data!.me).toEqual({ id: s.userId, email: 'jane.flow@example.org', role: 'CLINICIAN' });
    s.session1 = p;
  });

  it('the JWKS holds the key that signed the token', async () => {
    const res = await fetch(new URL('/.well-known/jwks.json', server.url));
    const jwks = (await res.json()) as { keys: Array<{ kid: string; alg: string; d?: string }> };
    const header = JSON.parse(Buffer.from(s.session1.accessToken.split('.')[0], 'base64url').toString());
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
    expect(jwks.keys.map((k) => k.kid)).toContain(header.kid);
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
  });

  it('enrols TOTP: secret, otpauth URI and QR; a code from oathtool turns it on and returns 10 recovery codes', async () => {
    const begin = await gql(server, M.begin2fa, {}, { token: s.session1.accessToken, ip });
    const e = begin.data!.beginTwoFactorEnrollment;
    expect(e.otpauthUrl).toContain(`secret=${e.secret}`);
    expect(e.qrCodeDataUrl).toMatch(/^data:image\/png;base64,/);
    s.secret = e.secret;
    const row = await server.services.db.orm.em
      .fork()
      .getConnection()
      .execute('select secret_encrypted from two_factor');
    expect(JSON.stringify(row)).not.toContain(e.secret);
    const wrong = await gql(
      server,
      M.confirm2fa,
      { code: '000000' === oathtoolCode(e.secret) ? '111111' : '000000' },
      { token: s.session1.accessToken, ip },
    );
    expect(onlyError(wrong).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'code',
      reason: 'INVALID_CODE',
    });
    const ok = await gql(server, M.confirm2fa, { code: oathtoolCode(e.secret) }, { token: s.session1.accessToken, ip });
    expect(ok.errors).toBeUndefined();
    s.recoveryCodes = ok.data!.confirmTwoFactorEnrollment;
    expect(s.recoveryCodes).toHaveLength(10);
  });

  it('login now asks for the second factor; a TOTP code is accepted once (replay refused)', async () => {
    const first = await gql(server, M.login, { email, password }, { ip });
    const p = first.data!.login;
    expect(p).toMatchObject({ twoFactorRequired: true, accessToken: null, refreshToken: null });
    // The current step was spent by the enrolment; the next step's code is within the allowed drift.
    const code = oathtoolCode(s.secret, 1);
    const ok = await gql(server, M.verifyTwoFactor, { challengeToken: p.challengeToken, code }, { ip });
    expect(ok.errors).toBeUndefined();
    expect(ok.data!.verifyTwoFactor).toMatchObject({ twoFactorRequired: false, user: { id: s.userId } });
    s.session2 = ok.data!.verifyTwoFactor;
    const replay = await gql(server, M.verifyTwoFactor, { challengeToken: p.challengeToken, code }, { ip });
    expect(onlyError(replay).extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOTP_REPLAYED' });
  });

  it('a recovery code signs in once; reusing it is refused', async () => {
    const { challengeToken } = (await gql(server, M.login, { email, password }, { ip })).data!.login;
    const code = s.recoveryCodes[0].toUpperCase().replace(/-/g, ' ');
    const ok = await gql(server, M.verifyTwoFactor, { challengeToken, code }, { ip });
    expect(ok.errors).toBeUndefined();
    s.session3 = ok.data!.verifyTwoFactor;
    const again = await gql(server, M.verifyTwoFactor, { challengeToken, code: s.recoveryCodes[0] }, { ip });
    expect(onlyError(again).extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'RECOVERY_CODE_USED' });
  });

  it('refresh rotates; reusing a rotated refresh token revokes the whole family', async () => {
    const r1 = s.session2.refreshToken;
    const a = await gql(server, M.refresh, { refreshToken: r1 }, { ip });
    expect(a.errors).toBeUndefined();
    const r2 = a.data!.refreshSession.refreshToken;
    expect(r2).not.toBe(r1);
    const b = await gql(server, M.refresh, { refreshToken: r2 }, { ip });
    const r3 = b.data!.refreshSession.refreshToken;
    const access3 = b.data!.refreshSession.accessToken;
    expect((await gql(server, M.me, {}, { token: access3, ip })).data!.me.id).toBe(s.userId);
    // r1 was rotated long ago: someone copied it.
    const reuse = await gql(server, M.refresh, { refreshToken: r1 }, { ip });
    expect(onlyError(reuse).extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'REFRESH_TOKEN_REUSED' });
    // The newest token of the family and its access token are dead too.
    const after = await gql(server, M.refresh, { refreshToken: r3 }, { ip });
    expect(onlyError(after).extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'SESSION_REVOKED' });
    const me = await gql(server, M.me, {}, { token: access3, ip });
    expect(onlyError(me).extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'SESSION_REVOKED' });
    // Other sessions are untouched.
    expect((await gql(server, M.me, {}, { token: s.session3.accessToken, ip })).data!.me.id).toBe(s.userId);
  });

  it('password reset: same answer for an unknown address (no mail), a link for a real one', async () => {
    await drain();
    const before = smtp.messages.length;
    const unknown = await gql(server, M.requestReset, { email: 'nobody@example.org' }, { ip });
    expect(unknown.data).toEqual({ requestPasswordReset: true });
    const known = await gql(server, M.requestReset, { email }, { ip });
    expect(known.data).toEqual({ requestPasswordReset: true });
    const mail = await smtp.waitFor('jane.flow@example.org', before);
    await drain();
    expect(smtp.messages.slice(before).map((m) => m.envelopeTo[0])).toEqual(['jane.flow@example.org']);
    expect(mail.headers.subject).toBe('Reset your password');
    s.resetToken = linkIn(mail.text).searchParams.get('token');
  });

  it('resetPassword checks the policy, works once, ends every session and keeps 2FA on', async () => {
    const weak = await gql(server, M.resetPassword, { token: s.resetToken, newPassword: 'qwertyuiop' }, { ip });
    expect(onlyError(weak).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'newPassword',
      reason: 'COMMON',
    });
    const ok = await gql(server, M.resetPassword, { token: s.resetToken, newPassword }, { ip });
    expect(ok.data).toEqual({ resetPassword: true });
    const reused = await gql(
      server,
      M.resetPassword,
      { token: s.resetToken, newPassword: 'another fine passphrase' },
      { ip },
    );
    expect(onlyError(reused).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'token',
      reason: 'TOKEN_USED',
    });
    for (const session of [s.session1, s.session3]) {
      expect(onlyError(await gql(server, M.me, {}, { token: session.accessToken, ip })).extensions).toMatchObject({
        code: 'UNAUTHENTICATED',
        reason: 'SESSION_REVOKED',
      });
      expect(
        onlyError(await gql(server, M.refresh, { refreshToken: session.refreshToken }, { ip })).extensions,
      ).toMatchObject({ reason: 'SESSION_REVOKED' });
    }
    expect(onlyError(await gql(server, M.login, { email, password }, { ip })).extensions).toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: 'INVALID_CREDENTIALS',
    });
    const login = await gql(server, M.login, { email, password: newPassword }, { ip });
    expect(login.data!.login).toMatchObject({ twoFactorRequired: true });
    const signedIn = await gql(
      server,
      M.verifyTwoFactor,
      { challengeToken: login.data!.login.challengeToken, code: s.recoveryCodes[1] },
      { ip },
    );
    const me = await gql(
      server,
      `query { me { twoFactorEnabled disabled } }`,
      {},
      { token: signedIn.data!.verifyTwoFactor.accessToken, ip },
    );
    expect(me.data!.me).toEqual({ twoFactorEnabled: true, disabled: false });
  });

  it('the audit log has the events, with IP and user agent, and no secrets', async () => {
    const rows = await server.services.db.orm.em
      .fork()
      .find(AuditLog, { userId: s.userId }, { orderBy: { createdAt: 'asc' } });
    const actions = rows.map((r) => `${r.action}:${r.success}`);
    for (const a of [
      'REGISTERED:true',
      'EMAIL_VERIFIED:true',
      'SIGN_IN_FAILED:false',
      'SIGN_IN_SUCCEEDED:true',
      'TWO_FACTOR_ENABLED:true',
      'TWO_FACTOR_FAILED:false',
      'RECOVERY_CODE_USED:true',
      'REFRESH_TOKEN_REUSED:false',
      'PASSWORD_RESET_REQUESTED:true',
      'PASSWORD_RESET:true',
    ]) {
      expect(actions).toContain(a);
    }
    expect(rows.find((r) => r.action === 'SIGN_IN_SUCCEEDED')).toMatchObject({ ip, userAgent: 'dermagraph-auth-test' });
    const dump = JSON.stringify(rows);
    for (const secret of [
      password,
      newPassword,
      s.resetToken,
      s.verifyToken,
      s.recoveryCodes[0],
      s.secret,
      s.session1.refreshToken,
    ]) {
      expect(dump).not.toContain(secret);
    }
    const user = await server.services.db.orm.em.fork().findOneOrFail(User, { id: s.userId });
    expect(user.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });
});
