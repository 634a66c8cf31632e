import { OutboxMessage } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { gql, M, onlyError } from './helpers';

/** Without SMTP_URL and REDIS_URL: mail lands in the outbox table, rate limits count in memory. */
describe('accounts with the embedded adapters', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      redis: false,
      env: { ALLOW_UNVERIFIED_LOGIN: '1' },
      auth: { throttle: { baseDelayMs: 2_000 } },
    });
  });
  afterAll(() => server?.close());

  it('writes the verification mail to the outbox table; the link in it verifies the account', async () => {
    const reg = await gql(server, M.register, {
      input: { email: 'outbox@example.org', password: 'actinic keratosis 3' },
    });
    expect(reg.errors).toBeUndefined();
    await server.services.auth.drainBackground();
    const rows = await server.services.db.orm.em.fork().find(OutboxMessage, { recipient: 'outbox@example.org' });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ subject: 'Confirm your email address', sender: server.config.MAIL_FROM });
    const token = /token=([A-Za-z0-9_-]{43})/.exec(rows[0].text)![1];
    expect(rows[0].html).toContain(token);
    // ALLOW_UNVERIFIED_LOGIN=1: signing in works before verification.
    const login = await gql(server, M.login, { email: 'outbox@example.org', password: 'actinic keratosis 3' });
    expect(login.data!.login.user).toMatchObject({ emailVerified: false });
    const v = await gql(server, M.verifyEmail, { token });
    expect(v.data!.verifyEmail.emailVerified).toBe(true);
  });

  it('the in-memory rate limit store refuses past the limit with retryAfterSeconds', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, () => gql(server, M.requestReset, { email: 'outbox@example.org' })),
    );
    const limited = results.filter((r) => r.errors?.[0]?.extensions?.code === 'RATE_LIMITED');
    expect(results.length - limited.length).toBe(3); // 3 per account per hour
    expect(onlyError(limited[0]).extensions!.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('failed sign-ins slow the account down, and the owner gets in once the short wait is over', async () => {
    const email = 'slowdown@example.org';
    const good = 'pityriasis rosea 21';
    await gql(server, M.register, { input: { email, password: good } });
    for (let i = 0; i < 6; i++) {
      expect(onlyError(await gql(server, M.login, { email, password: `wrong ${i}` })).extensions).toMatchObject({
        reason: 'INVALID_CREDENTIALS',
      });
    }
    // 6 failures: the next attempt must wait (2 s here), even with the right password.
    const slowed = onlyError(await gql(server, M.login, { email, password: good }));
    expect(slowed.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(slowed.extensions!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(slowed.extensions!.retryAfterSeconds).toBeLessThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 2_100));
    const ok = await gql(server, M.login, { email, password: good });
    expect(ok.errors).toBeUndefined();
    expect(ok.data!.login.accessToken).toEqual(expect.any(String));
  });
});
