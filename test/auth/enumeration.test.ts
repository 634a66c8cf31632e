import { MikroORM, type EntityManager } from '@mikro-orm/postgresql';
import { verifyPassword } from '../../src/modules/accounts/passwords/password-hash';
import { AuditLog, EmailToken, User } from '../../src/entities';
import { ormConfig } from '../../src/infra/database/database';
import { startTestServer, type TestServer } from '../support/server';
import { startSmtpCapture } from './smtp-capture';
import { createVerifiedUser, gql, holdableScheduler, M, onlyError } from './helpers';

/**
 * Issue [7], "Account enumeration": register answered CONFLICT for a taken address, and
 * requestPasswordReset / resendVerificationEmail did more work (so took longer) for real accounts.
 * Pinned by mechanism, never by milliseconds: the statements an answer waits for are counted on an
 * EntityManager of the test's own, and the server's background work is held to show the answer
 * did not wait for it.
 */
describe('accounts: answers that do not tell whether an address has an account', () => {
  let server: TestServer;
  let smtp: Awaited<ReturnType<typeof startSmtpCapture>>;
  let counting: MikroORM;
  const statements: string[] = [];
  const background = holdableScheduler();
  const meta = { ip: '198.51.100.90', userAgent: 'enumeration-test' };
  const password = 'erythema multiforme 8';

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    server = await startTestServer({
      env: { SMTP_URL: smtp.url },
      auth: {
        scheduleBackground: background.schedule,
        rateLimits: { register: { perIp: { name: 'register', max: 1000, windowMs: 60_000 } } },
      },
    });
    counting = await MikroORM.init(
      ormConfig(server.config.DATABASE_URL, { poolMax: 2, onQuery: (sql) => statements.push(sql) }),
    );
  });
  afterAll(async () => {
    await counting?.close(true);
    await server?.close();
    await smtp?.close();
  });

  const auth = () => server.services.auth;
  const settle = async () => {
    background.release();
    await auth().drainBackground();
  };
  /** Runs `call` on a fresh EntityManager of the counting ORM: the statements the answer waited for, values blanked. */
  const awaited = async <T>(call: (em: EntityManager) => Promise<T>): Promise<{ result: T; sql: string[] }> => {
    const before = statements.length;
    const result = await call(counting.em.fork());
    const sql = statements.slice(before).map((q) =>
      q
        .replace(/'[^']*'/g, '?')
        .replace(/\[took[^\]]*\]/, '')
        .replace(/\d+ rows? affected/, ''),
    );
    return { result, sql };
  };
  const mailsTo = (to: string) => smtp.messages.filter((m) => m.envelopeTo.includes(to)).map((m) => m.headers.subject);
  const tokenRows = (email: string) => server.services.db.orm.em.fork().count(EmailToken, { user: { email } } as never);

  it('register: a taken address gets the same answer after the same work; its owner is mailed instead', async () => {
    const ownerId = await createVerifiedUser(server, smtp, 'owner@example.org', password);
    await settle();
    background.hold();
    const taken = await awaited((em) =>
      auth().registration.register(em, { email: 'Owner@Example.org', password: 'a new passphrase 1' }, meta),
    );
    const fresh = await awaited((em) =>
      auth().registration.register(em, { email: 'newcomer@example.org', password: 'a new passphrase 1' }, meta),
    );
    // One statement each (the insert the unique index decides), the same statement.
    expect(taken.sql).toHaveLength(1);
    expect(taken.sql).toEqual(fresh.sql);
    // The same answer: a User with a fresh id, the address given, not verified; argon2 ran both times.
    for (const [answer, email] of [
      [taken.result, 'owner@example.org'],
      [fresh.result, 'newcomer@example.org'],
    ] as const) {
      expect(answer).toBeInstanceOf(User);
      expect(answer).toMatchObject({ email, role: 'CLINICIAN', emailVerifiedAt: undefined, disabledAt: undefined });
      expect(await verifyPassword(answer.passwordHash, 'a new passphrase 1')).toBe(true);
    }
    expect(taken.result.id).not.toBe(ownerId);
    expect(Object.keys(taken.result).sort()).toEqual(Object.keys(fresh.result).sort());
    // Nothing was mailed yet: that is work after the answer.
    expect(background.held).toBe(2);
    const before = smtp.messages.length;
    await settle();
    expect(smtp.messages.length).toBe(before + 2);
    expect(mailsTo('owner@example.org').at(-1)).toBe('Someone tried to register with your address');
    expect(mailsTo('newcomer@example.org')).toEqual(['Confirm your email address']);
    const em = server.services.db.orm.em.fork();
    expect(await em.count(AuditLog, { action: 'REGISTRATION_EMAIL_TAKEN', userId: ownerId })).toBe(1);
    // The owner's account is as it was.
    expect(
      (await gql(server, M.login, { email: 'owner@example.org', password }, { ip: meta.ip })).data!.login.user.id,
    ).toBe(ownerId);
  });

  it('register over GraphQL: the same fields either way, and two racing registrations of one address both succeed', async () => {
    const a = await gql(
      server,
      M.register,
      { input: { email: 'owner@example.org', password: 'another passphrase 2' } },
      { ip: meta.ip },
    );
    const b = await gql(
      server,
      M.register,
      { input: { email: 'stranger@example.org', password: 'another passphrase 2' } },
      { ip: meta.ip },
    );
    expect(a.errors).toBeUndefined();
    expect(b.errors).toBeUndefined();
    expect(a.data!.register).toEqual({ ...b.data!.register, id: expect.any(String), email: 'owner@example.org' });
    const race = await Promise.all(
      [1, 2].map(() => gql(server, M.register, { input: { email: 'racer@example.org', password } }, { ip: meta.ip })),
    );
    expect(race.map((r) => r.errors)).toEqual([undefined, undefined]);
    expect(await server.services.db.orm.em.fork().count(User, { email: 'racer@example.org' })).toBe(1);
    // Other errors are as before.
    expect(
      onlyError(
        await gql(server, M.register, { input: { email: 'owner@example.org', password: 'aaaaaaaa' } }, { ip: meta.ip }),
      ).extensions,
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'password', reason: 'REPEATED_CHARACTER' });
    expect(
      onlyError(await gql(server, M.register, { input: { email: 'not an address', password } }, { ip: meta.ip }))
        .extensions,
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });
    await settle();
  });

  it('requestPasswordReset and resendVerificationEmail answer before any account work, the same for every address', async () => {
    await gql(server, M.register, { input: { email: 'unverified@example.org', password } }, { ip: meta.ip });
    await settle();
    const tokensBefore = {
      owner: await tokenRows('owner@example.org'),
      unverified: await tokenRows('unverified@example.org'),
    };
    background.hold();
    const calls = {
      resetKnown: await awaited((em) => auth().passwords.requestReset(em, 'owner@example.org', meta)),
      resetUnknown: await awaited((em) => auth().passwords.requestReset(em, 'nobody@example.org', meta)),
      resendKnown: await awaited((em) => auth().registration.resendVerificationEmail(em, 'unverified@example.org')),
      resendUnknown: await awaited((em) => auth().registration.resendVerificationEmail(em, 'nobody@example.org')),
    };
    // The answers waited for no statement at all, whichever the address.
    for (const c of Object.values(calls)) expect(c).toEqual({ result: true, sql: [] });
    // Over GraphQL too: answered while the look-up is still held.
    expect((await gql(server, M.requestReset, { email: 'owner@example.org' }, { ip: meta.ip })).data).toEqual({
      requestPasswordReset: true,
    });
    expect(background.held).toBe(5);
    expect(await tokenRows('owner@example.org')).toBe(tokensBefore.owner);
    const before = smtp.messages.length;
    await settle();
    // Then the work: links for the real accounts only.
    const sent = smtp.messages
      .slice(before)
      .map((m) => `${m.envelopeTo[0]}: ${m.headers.subject}`)
      .sort();
    expect(sent).toEqual([
      'owner@example.org: Reset your password',
      'owner@example.org: Reset your password',
      'unverified@example.org: Confirm your email address',
    ]);
    expect(await tokenRows('unverified@example.org')).toBe(tokensBefore.unverified); // the new link replaced the old one
  });

  it('work with a connection of its own refuses to start inside a transaction (the embedded deadlock of issue [7])', async () => {
    await counting.em.fork().transactional(async (tem) => {
      await expect(auth().passwords.requestReset(tem, 'owner@example.org', meta)).rejects.toThrow(
        /must not start inside a transaction/,
      );
    });
  });
});
