import { AuditLog, TwoFactor } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { startSmtpCapture } from './smtp-capture';
import { createVerifiedUser, gql, M, onlyError } from './helpers';

/** Roles, disabling and the admin views; every admin change leaves an audit row (@Audited). */
describe('accounts: user administration', () => {
  let server: TestServer;
  let smtp: Awaited<ReturnType<typeof startSmtpCapture>>;
  const password = 'melanocytic naevus 9';
  let victim: { id: string; accessToken: string; refreshToken: string };
  const signInAdmin = async (ip: string) =>
    (await gql(server, M.login, { email: 'admin@dermagraph.test', password: 'an admin passphrase 1' }, { ip })).data!
      .login;

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    server = await startTestServer({
      env: { SMTP_URL: smtp.url, ADMIN_EMAIL: 'admin@dermagraph.test', ADMIN_PASSWORD: 'an admin passphrase 1' },
    });
    const id = await createVerifiedUser(server, smtp, 'victim@example.org', password);
    const login = await gql(server, M.login, { email: 'victim@example.org', password }, { ip: '192.0.2.1' });
    victim = { id, ...login.data!.login };
    // A failed sign-in of the victim, for the audit log query.
    await gql(server, M.login, { email: 'victim@example.org', password: 'not the password' }, { ip: '198.51.100.5' });
  });
  afterAll(async () => {
    await server?.close();
    await smtp?.close();
  });

  it('roles: the first admin comes from ADMIN_EMAIL; only admins change roles; disabling ends sessions', async () => {
    const admin = await signInAdmin('198.51.100.40');
    expect(admin.user).toMatchObject({ role: 'ADMIN', emailVerified: true });
    const userId = await createVerifiedUser(server, smtp, 'to-disable@example.org', password);
    const session = (await gql(server, M.login, { email: 'to-disable@example.org', password }, { ip: '198.51.100.41' }))
      .data!.login;

    expect(
      onlyError(await gql(server, M.setUserRole, { userId, role: 'ADMIN' }, { token: session.accessToken })).extensions,
    ).toMatchObject({ code: 'FORBIDDEN' });
    expect(onlyError(await gql(server, M.setUserRole, { userId, role: 'ADMIN' })).extensions).toMatchObject({
      code: 'UNAUTHENTICATED',
    });
    expect(
      (await gql(server, M.setUserRole, { userId, role: 'RESEARCHER' }, { token: admin.accessToken })).data!.setUserRole
        .role,
    ).toBe('RESEARCHER');
    // The role in a request comes from the database, not from the (older) token.
    expect((await gql(server, M.me, {}, { token: session.accessToken })).data!.me.role).toBe('RESEARCHER');

    expect(
      (await gql(server, M.setUserDisabled, { userId, disabled: true }, { token: admin.accessToken })).errors,
    ).toBeUndefined();
    expect(onlyError(await gql(server, M.me, {}, { token: session.accessToken })).extensions).toMatchObject({
      code: 'UNAUTHENTICATED',
    });
    expect(
      onlyError(await gql(server, M.refresh, { refreshToken: session.refreshToken }, { ip: '198.51.100.41' }))
        .extensions,
    ).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(
      onlyError(await gql(server, M.login, { email: 'to-disable@example.org', password }, { ip: '198.51.100.41' }))
        .extensions,
    ).toMatchObject({ code: 'FORBIDDEN', reason: 'USER_DISABLED' });
    // The last admin cannot demote or disable themselves away.
    const adminId = admin.user.id;
    expect(
      onlyError(await gql(server, M.setUserDisabled, { userId: adminId, disabled: true }, { token: admin.accessToken }))
        .extensions,
    ).toMatchObject({ code: 'CONFLICT', reason: 'LAST_ADMIN' });
    const actions = (await server.services.db.orm.em.fork().find(AuditLog, { userId })).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['ROLE_CHANGED', 'USER_DISABLED']));
  });

  it('admins page through users and the audit log; others may not', async () => {
    const admin = await signInAdmin('198.51.100.60');
    const usersQ = `query($filter: UserFilter, $first: Int, $after: String) { users(filter: $filter, first: $first, after: $after) {
      totalCount edges { cursor node { email role } } pageInfo { hasNextPage endCursor } } }`;
    const page1 = (await gql(server, usersQ, { first: 2 }, { token: admin.accessToken })).data!.users;
    expect(page1.edges).toHaveLength(2);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (
      await gql(server, usersQ, { first: 2, after: page1.pageInfo.endCursor }, { token: admin.accessToken })
    ).data!.users;
    expect(page2.edges.map((e: any) => e.node.email)).not.toContain(page1.edges[0].node.email);
    const found = (await gql(server, usersQ, { filter: { search: 'VICTIM' } }, { token: admin.accessToken })).data!
      .users;
    expect(found).toMatchObject({ totalCount: 1, edges: [{ node: { email: 'victim@example.org' } }] });
    const bad = await gql(server, usersQ, { after: 'not-a-cursor' }, { token: admin.accessToken });
    expect(onlyError(bad).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });

    const auditQ = `query($filter: AuditLogFilter, $first: Int) { auditLog(filter: $filter, first: $first) {
      edges { node { action success ip userAgent userId details createdAt } } pageInfo { hasNextPage } } }`;
    const failed = (
      await gql(
        server,
        auditQ,
        { filter: { action: 'SIGN_IN_FAILED', userId: victim.id }, first: 50 },
        { token: admin.accessToken },
      )
    ).data!.auditLog;
    expect(failed.edges.length).toBeGreaterThan(0);
    expect(failed.edges[0].node).toMatchObject({
      action: 'SIGN_IN_FAILED',
      success: false,
      userId: victim.id,
      details: { reason: 'INVALID_CREDENTIALS' },
    });
    const asClinician = await gql(server, auditQ, {}, { token: victim.accessToken });
    expect(onlyError(asClinician).extensions).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('admin changes are audited with actor, before and after; no row when nothing changed; refusals with their code', async () => {
    const admin = await signInAdmin('198.51.100.70');
    const userId = await createVerifiedUser(server, smtp, 'audited@example.org', password);
    const as = { token: admin.accessToken, ip: '198.51.100.70' };
    const rows = async () =>
      (await server.services.db.orm.em.fork().find(AuditLog, { userId }, { orderBy: { createdAt: 'asc', id: 'asc' } }))
        .filter((r) => r.actorId)
        .map((r) => ({ action: r.action, success: r.success, actorId: r.actorId, ip: r.ip, details: r.details }));

    await gql(server, M.setUserRole, { userId, role: 'RESEARCHER' }, as);
    await gql(server, M.setUserRole, { userId, role: 'RESEARCHER' }, as); // unchanged: no row
    await gql(server, M.setUserDisabled, { userId, disabled: true }, as);
    await gql(server, M.setUserDisabled, { userId, disabled: false }, as);
    const resetTwoFactor = `mutation($userId: ID!) { resetUserTwoFactor(userId: $userId) { id } }`;
    await gql(server, resetTwoFactor, { userId }, as); // no 2FA: no row
    const em = server.services.db.orm.em.fork();
    em.create(TwoFactor, { user: userId, secretEncrypted: 'x', enabledAt: new Date() } as never);
    await em.flush();
    await gql(server, resetTwoFactor, { userId }, as);
    const base = { actorId: admin.user.id, ip: '198.51.100.70', success: true };
    expect(await rows()).toEqual([
      {
        ...base,
        action: 'ROLE_CHANGED',
        details: { from: 'CLINICIAN', to: 'RESEARCHER', before: { role: 'CLINICIAN' }, after: { role: 'RESEARCHER' } },
      },
      { ...base, action: 'USER_DISABLED', details: { before: { disabled: false }, after: { disabled: true } } },
      { ...base, action: 'USER_ENABLED', details: { before: { disabled: true }, after: { disabled: false } } },
      {
        ...base,
        action: 'TWO_FACTOR_DISABLED',
        details: { by: 'admin', before: { twoFactor: true }, after: { twoFactor: false } },
      },
    ]);

    // A refused change is recorded too, with the error's code.
    const refused = await gql(server, M.setUserDisabled, { userId: admin.user.id, disabled: true }, as);
    expect(onlyError(refused).extensions).toMatchObject({ code: 'CONFLICT', reason: 'LAST_ADMIN' });
    const last = await server.services.db.orm.em
      .fork()
      .findOneOrFail(AuditLog, { userId: admin.user.id, action: 'USER_DISABLED' });
    expect(last).toMatchObject({ success: false, actorId: admin.user.id, details: { error: 'CONFLICT' } });
  });
});
