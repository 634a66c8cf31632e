import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AuditLog, EmailToken } from '../../src/entities';
import { JwtService, loadKeyRing } from '../../src/modules/accounts/tokens/jwt';
import { AUTH_RATE_LIMITS } from '../../src/modules/accounts/limits/rate-limit';
import { startTestServer, type TestServer } from '../support/server';
import { linkIn, startSmtpCapture } from './smtp-capture';
import { createVerifiedUser, gql, M, onlyError } from './helpers';

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** Hostile and odd inputs: each gets its own clear code. */
describe('accounts: hostile inputs', () => {
  let server: TestServer;
  let smtp: Awaited<ReturnType<typeof startSmtpCapture>>;
  const password = 'melanocytic naevus 9';
  let victim: { id: string; accessToken: string; refreshToken: string };

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    server = await startTestServer({
      env: { SMTP_URL: smtp.url, ADMIN_EMAIL: 'admin@dermagraph.test', ADMIN_PASSWORD: 'an admin passphrase 1' },
      // The per-account sign-in limit of 5 (for clients that are not the owner's) under test; per-IP limits out of the way.
      auth: {
        rateLimits: {
          login: {
            ...AUTH_RATE_LIMITS.login,
            perIp: { name: 'login', max: 1000, windowMs: 900_000 },
            perAccount: { name: 'login', max: 5, windowMs: 900_000 },
          },
          register: { perIp: { name: 'register', max: 1000, windowMs: 900_000 } },
          emailVerification: {
            ...AUTH_RATE_LIMITS.emailVerification,
            perIp: { name: 'emailVerification', max: 1000, windowMs: 900_000 },
          },
        },
      },
    });
    const id = await createVerifiedUser(server, smtp, 'victim@example.org', password);
    const login = await gql(server, M.login, { email: 'victim@example.org', password }, { ip: '192.0.2.1' });
    victim = { id, ...login.data!.login };
  });
  afterAll(async () => {
    await server?.close();
    await smtp?.close();
  });

  it('20 concurrent wrong logins against a limit of 5 let exactly 5 through', async () => {
    await createVerifiedUser(server, smtp, 'target@example.org', password);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        gql(
          server,
          M.login,
          { email: 'target@example.org', password: `wrong guess ${i}` },
          { ip: `203.0.113.${i + 1}` },
        ),
      ),
    );
    const codes = results.map((r) => onlyError(r).extensions!);
    expect(codes.filter((e) => e.reason === 'INVALID_CREDENTIALS')).toHaveLength(5);
    const limited = codes.filter((e) => e.code === 'RATE_LIMITED');
    expect(limited).toHaveLength(15);
    for (const e of limited) expect(e.retryAfterSeconds).toEqual(expect.any(Number));
    expect(Math.min(...limited.map((e) => e.retryAfterSeconds!))).toBeGreaterThan(0);
    expect(Math.max(...limited.map((e) => e.retryAfterSeconds!))).toBeLessThanOrEqual(900);
    // Only the 5 that got through were checked (and audited) as failed sign-ins.
    const failures = await server.services.db.orm.em
      .fork()
      .count(AuditLog, { action: 'SIGN_IN_FAILED', ip: { $like: '203.0.113.%' } });
    expect(failures).toBe(5);
  });

  it('aliases in one request cannot multiply attempts', async () => {
    await createVerifiedUser(server, smtp, 'aliased@example.org', password);
    // Each alias is a resolver call and is counted: with 3 resets an hour per account, the 4th alias is refused.
    const resets = Array.from(
      { length: 8 },
      (_, i) => `r${i}: requestPasswordReset(email: "aliased@example.org")`,
    ).join('\n');
    const r = await gql(server, `mutation { ${resets} }`, {}, { ip: '198.51.100.77' });
    expect(r.errors).toHaveLength(1);
    expect(r.errors![0]).toMatchObject({ path: ['r3'], extensions: { code: 'RATE_LIMITED' } });
    // Aliased logins: the first failure (a non-null field) ends the mutation, so one request is one guess.
    const em = server.services.db.orm.em.fork();
    const failuresBefore = await em.count(AuditLog, { action: 'SIGN_IN_FAILED', ip: '198.51.100.78' });
    const logins = Array.from(
      { length: 8 },
      (_, i) => `a${i}: login(email: "aliased@example.org", password: "guess number ${i}") { accessToken }`,
    ).join('\n');
    const res = await gql(server, `mutation { ${logins} }`, {}, { ip: '198.51.100.78' });
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]).toMatchObject({ path: ['a0'], extensions: { reason: 'INVALID_CREDENTIALS' } });
    expect(await em.count(AuditLog, { action: 'SIGN_IN_FAILED', ip: '198.51.100.78' })).toBe(failuresBefore + 1);
  });

  it('unknown email and wrong password give the same error', async () => {
    const unknown = onlyError(
      await gql(server, M.login, { email: 'ghost@example.org', password }, { ip: '198.51.100.5' }),
    );
    const wrong = onlyError(
      await gql(server, M.login, { email: 'victim@example.org', password: 'not the password' }, { ip: '198.51.100.5' }),
    );
    expect(unknown).toEqual(wrong);
    expect(wrong).toMatchObject({
      message: 'Invalid email or password',
      extensions: { code: 'UNAUTHENTICATED', reason: 'INVALID_CREDENTIALS' },
    });
  });

  describe('access tokens', () => {
    const me = (authorization: string) => gql(server, M.me, {}, { authorization });

    it('the genuine token works', async () => {
      expect((await me(`Bearer ${victim.accessToken}`)).data!.me.id).toBe(victim.id);
    });

    it('tampered payload, alg none, HS256 confusion -> 401 TOKEN_INVALID', async () => {
      const [h, p, sig] = victim.accessToken.split('.');
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
      const header = JSON.parse(Buffer.from(h, 'base64url').toString());
      const tokens = [
        `${h}.${b64({ ...claims, role: 'ADMIN' })}.${sig}`,
        `${b64({ ...header, alg: 'none' })}.${p}.`,
        `${b64({ ...header, alg: 'HS256' })}.${p}.${sig}`,
        `${h}.${p}.${sig.slice(0, -4)}AAAA`,
        'Bearer-less garbage',
      ];
      for (const t of tokens) {
        const res = await me(`Bearer ${t}`);
        expect(res.status).toBe(401);
        expect(onlyError(res).extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'TOKEN_INVALID' });
      }
    });

    it('a token from another key, for another audience, or expired is refused with its reason', async () => {
      const ring = await loadKeyRing({ keyDir: path.join(server.dataDir, 'keys') });
      const settings = { issuer: server.config.JWT_ISSUER, audience: server.config.JWT_AUDIENCE };
      const claims = {
        sub: victim.id,
        role: 'ADMIN',
        sid: JSON.parse(Buffer.from(victim.accessToken.split('.')[1], 'base64url').toString()).sid,
      };
      const dir = mkdtempSync(path.join(os.tmpdir(), 'dg-otherkey-'));
      try {
        const otherKey = await new JwtService(await loadKeyRing({ keyDir: dir }), settings).signAccessToken(claims);
        expect(onlyError(await me(`Bearer ${otherKey}`)).extensions).toMatchObject({
          code: 'UNAUTHENTICATED',
          reason: 'TOKEN_INVALID',
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const wrongAud = await new JwtService(ring, { ...settings, audience: 'someone-else' }).signAccessToken(claims);
      expect(onlyError(await me(`Bearer ${wrongAud}`)).extensions).toMatchObject({
        code: 'UNAUTHENTICATED',
        reason: 'TOKEN_INVALID',
      });
      const expired = await new JwtService(ring, settings, () => new Date(Date.now() - 3_600_000)).signAccessToken(
        claims,
      );
      const res = await me(`Bearer ${expired}`);
      expect(res.status).toBe(401);
      expect(onlyError(res).extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED' });
      // A 2FA challenge token is not an access token.
      const challenge = await new JwtService(ring, settings).signChallengeToken({ sub: victim.id });
      expect(onlyError(await me(`Bearer ${challenge}`)).extensions).toMatchObject({ reason: 'TOKEN_INVALID' });
    });
  });

  it('oversized strings get BAD_USER_INPUT with the field, before any hashing', async () => {
    const big = 'x'.repeat(20_000);
    expect(
      onlyError(await gql(server, M.login, { email: 'victim@example.org', password: big }, { ip: '198.51.100.9' }))
        .extensions,
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'password', reason: 'TOO_LONG' });
    expect(
      onlyError(
        await gql(server, M.register, { input: { email: `${big}@example.org`, password } }, { ip: '198.51.100.9' }),
      ).extensions,
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email', reason: 'TOO_LONG' });
    expect(
      onlyError(
        await gql(
          server,
          M.register,
          { input: { email: 'named@example.org', password, name: big } },
          { ip: '198.51.100.9' },
        ),
      ).extensions,
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name', reason: 'TOO_LONG' });
    expect(
      onlyError(
        await gql(
          server,
          M.register,
          { input: { email: 'long@example.org', password: 'p'.repeat(129) } },
          { ip: '198.51.100.9' },
        ),
      ).extensions,
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'password', reason: 'TOO_LONG' });
    expect(
      onlyError(await gql(server, M.refresh, { refreshToken: big }, { ip: '198.51.100.9' })).extensions,
    ).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_INVALID' });
    expect(
      onlyError(await gql(server, M.resetPassword, { token: big, newPassword: password }, { ip: '198.51.100.9' }))
        .extensions,
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'token', reason: 'TOKEN_INVALID' });
  });

  it('expired, unknown and reused mail tokens each get their reason', async () => {
    const email = 'tokens@example.org';
    const before = smtp.messages.length;
    await gql(server, M.register, { input: { email, password } }, { ip: '198.51.100.20' });
    const verifyToken = linkIn((await smtp.waitFor(email, before)).text).searchParams.get('token')!;
    const em = server.services.db.orm.em.fork();
    await em.nativeUpdate(EmailToken, { purpose: 'VERIFY_EMAIL', user: { email } } as never, {
      expiresAt: new Date(Date.now() - 1000),
    });
    expect(
      onlyError(await gql(server, M.verifyEmail, { token: verifyToken }, { ip: '198.51.100.20' })).extensions,
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'token', reason: 'TOKEN_EXPIRED' });
    expect(
      onlyError(await gql(server, M.verifyEmail, { token: 'A'.repeat(43) }, { ip: '198.51.100.20' })).extensions,
    ).toMatchObject({ reason: 'TOKEN_INVALID' });
    // A new link replaces the expired one and works.
    const n = smtp.messages.length;
    expect((await gql(server, M.resend, { email }, { ip: '198.51.100.20' })).data).toEqual({
      resendVerificationEmail: true,
    });
    const fresh = linkIn((await smtp.waitFor(email, n)).text).searchParams.get('token')!;
    expect(
      (await gql(server, M.verifyEmail, { token: fresh }, { ip: '198.51.100.20' })).data!.verifyEmail.emailVerified,
    ).toBe(true);

    const r = smtp.messages.length;
    await gql(server, M.requestReset, { email }, { ip: '198.51.100.20' });
    const resetToken = linkIn((await smtp.waitFor(email, r)).text).searchParams.get('token')!;
    await em.nativeUpdate(EmailToken, { purpose: 'RESET_PASSWORD', usedAt: null } as never, {
      expiresAt: new Date(Date.now() - 1000),
    });
    expect(
      onlyError(
        await gql(
          server,
          M.resetPassword,
          { token: resetToken, newPassword: 'a brand new passphrase' },
          { ip: '198.51.100.20' },
        ),
      ).extensions,
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'token', reason: 'TOKEN_EXPIRED' });
  });

  it('reset for an unknown address answers true and sends nothing', async () => {
    await server.services.auth.drainBackground();
    const before = smtp.messages.length;
    const res = await gql(server, M.requestReset, { email: 'nobody-here@example.org' }, { ip: '198.51.100.30' });
    expect(res.data).toEqual({ requestPasswordReset: true });
    await server.services.auth.drainBackground();
    expect(smtp.messages.length).toBe(before);
  });

  it('logout ends one session, logoutAllSessions every one; changePassword keeps the caller', async () => {
    const email = 'sessions@example.org';
    await createVerifiedUser(server, smtp, email, password);
    const login = () => gql(server, M.login, { email, password }, { ip: '198.51.100.50' }).then((r) => r.data!.login);
    const a = await login();
    const b = await login();
    expect((await gql(server, M.logout, { refreshToken: a.refreshToken })).data).toEqual({ logout: true });
    expect(onlyError(await gql(server, M.me, {}, { token: a.accessToken })).extensions).toMatchObject({
      reason: 'SESSION_REVOKED',
    });
    expect((await gql(server, M.me, {}, { token: b.accessToken })).data!.me.email).toBe(email);

    const c = await login();
    const changed = await gql(
      server,
      M.changePassword,
      { currentPassword: 'wrong one here', newPassword: 'a different passphrase' },
      { token: b.accessToken },
    );
    expect(onlyError(changed).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'currentPassword',
      reason: 'WRONG_PASSWORD',
    });
    expect(
      (
        await gql(
          server,
          M.changePassword,
          { currentPassword: password, newPassword: 'a different passphrase' },
          { token: b.accessToken },
        )
      ).data,
    ).toEqual({ changePassword: true });
    expect((await gql(server, M.me, {}, { token: b.accessToken })).data!.me.email).toBe(email);
    expect(onlyError(await gql(server, M.me, {}, { token: c.accessToken })).extensions).toMatchObject({
      reason: 'SESSION_REVOKED',
    });

    expect((await gql(server, M.logoutAll, {}, { token: b.accessToken })).data).toEqual({ logoutAllSessions: 1 });
    expect(onlyError(await gql(server, M.me, {}, { token: b.accessToken })).extensions).toMatchObject({
      reason: 'SESSION_REVOKED',
    });
  });
});
