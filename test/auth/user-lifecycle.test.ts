import { AuditLog, PredictionUsage, Report, ReportKind, ReportStatus, Role, User } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { queries, statementCounter } from '../support/statements';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { createPatient, fixture, JPEGS, uploadImages } from '../patients/helpers';
import { startSmtpCapture } from './smtp-capture';
import { gql, M, onlyError } from './helpers';

const Q = {
  invite: `mutation($input: InviteUserInput!) { inviteUser(input: $input) { id email name role plan invitationPending deleted } }`,
  plan: `mutation($userId: ID!, $plan: Plan!) { setUserPlan(userId: $userId, plan: $plan) { id plan } }`,
  name: `mutation($userId: ID!, $name: String) { setUserName(userId: $userId, name: $name) { id name } }`,
  reset: `mutation($userId: ID!, $signOut: Boolean) { sendUserPasswordReset(userId: $userId, signOut: $signOut) { id } }`,
  users: `query($filter: UserFilter) { users(filter: $filter, first: 100) { edges { node {
    id email invitationPending deleted usage { since uploads predictions segmentations reports } } } } }`,
};
const tokenOf = (text: string) => /token=([A-Za-z0-9_-]+)/.exec(text)![1];

/** inviteUser, setUserPlan, setUserName, sendUserPasswordReset and User.usage ([13]), on a real server and SMTP. */
describe('accounts: invitations, plans, names, admin-started resets, usage', () => {
  let server: TestServer;
  let smtp: Awaited<ReturnType<typeof startSmtpCapture>>;
  let admin: SignedInUser;
  let clinician: SignedInUser;
  let researcher: SignedInUser;
  const as = (u: SignedInUser) => ({ token: u.token, ip: '198.51.100.90' });
  const adminRows = async (userId: string) =>
    (await server.services.db.orm.em.fork().find(AuditLog, { userId }, { orderBy: { createdAt: 'asc', id: 'asc' } }))
      .filter((r) => r.actorId === admin.id)
      .map((r) => ({ action: r.action, success: r.success, details: r.details }));

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    server = await startTestServer({ env: { SMTP_URL: smtp.url, INVITATION_TTL_HOURS: '48' } });
    admin = await createSignedInUser(server, { role: Role.ADMIN });
    clinician = await createSignedInUser(server);
    researcher = await createSignedInUser(server, { role: Role.RESEARCHER });
  });
  afterAll(async () => {
    await server?.close();
    await smtp?.close();
  });

  it('every operation: FORBIDDEN for clinicians and researchers, UNAUTHENTICATED without a token, no row', async () => {
    const target = clinician.id;
    const calls: Array<[string, Record<string, unknown>]> = [
      [Q.invite, { input: { email: 'nobody@example.org' } }],
      [Q.plan, { userId: target, plan: 'PRO' }],
      [Q.name, { userId: target, name: 'X' }],
      [Q.reset, { userId: target }],
      [`mutation($userId: ID!) { deleteUser(userId: $userId) { outcome } }`, { userId: target }],
    ];
    for (const [query, vars] of calls) {
      for (const u of [clinician, researcher])
        expect(onlyError(await gql(server, query, vars, as(u))).extensions).toMatchObject({ code: 'FORBIDDEN' });
      expect(onlyError(await gql(server, query, vars)).extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
    }
    expect(await server.services.db.orm.em.fork().count(User, { email: 'nobody@example.org' })).toBe(0);
    expect(await adminRows(target)).toEqual([]);
    // Usage: the account itself and admins only.
    const other = await gql(server, `query($id: ID!) { node(id: $id) { ... on User { usage { uploads } } } }`, {
      id: admin.id,
    });
    expect(other.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
    const own = await gql(server, `query { me { usage { uploads reports } } }`, {}, as(clinician));
    expect(own.data!.me.usage).toEqual({ uploads: 0, reports: 0 });
  });

  it('an invitation: a mailed single-use link sets the password; no sign-in before; audited with the account as it was made', async () => {
    const before = smtp.messages.length;
    const res = await gql(
      server,
      Q.invite,
      { input: { email: '  Invitee@Example.ORG ', name: ' Dr Invitee ', role: 'RESEARCHER', plan: 'PRO' } },
      as(admin),
    );
    expect(res.errors).toBeUndefined();
    const invited = res.data!.inviteUser;
    expect(invited).toMatchObject({
      email: 'invitee@example.org',
      name: 'Dr Invitee',
      role: 'RESEARCHER',
      plan: 'PRO',
      invitationPending: true,
      deleted: false,
    });
    const mail = await smtp.waitFor('invitee@example.org', before);
    expect(mail.headers.subject).toBe('You are invited to Dermagraph');
    expect(mail.text).toContain('expires in 48 hours');
    expect(mail.text).toContain('http://127.0.0.1:4000/reset-password?token=');
    const pending = (await gql(server, Q.users, { filter: { invitationPending: true } }, as(admin))).data!.users;
    expect(pending.edges.map((e: any) => e.node.email)).toEqual(['invitee@example.org']);
    const notPending = async () =>
      (await gql(server, Q.users, { filter: { invitationPending: false, search: 'invitee' } }, as(admin))).data!.users
        .edges;
    expect(await notPending()).toEqual([]);

    // The same address again, by any spelling: CONFLICT; garbage: BAD_USER_INPUT on the field.
    const again = await gql(server, Q.invite, { input: { email: 'INVITEE@example.org' } }, as(admin));
    expect(onlyError(again).extensions).toMatchObject({ code: 'CONFLICT', reason: 'EMAIL_TAKEN' });
    for (const [input, field] of [
      [{ email: 'not an address' }, 'input.email'],
      [{ email: `${'a'.repeat(600)}@example.org` }, 'input.email'],
      [{ email: 'ok@example.org', name: 'n'.repeat(201) }, 'input.name'],
      [{ email: 'ok@example.org', name: 'line\nbreak' }, 'input.name'],
    ] as const)
      expect(onlyError(await gql(server, Q.invite, { input }, as(admin))).extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field,
      });
    const badRole = await gql(server, Q.invite, { input: { email: 'ok@example.org', role: 'ROOT' } }, as(admin));
    expect(badRole.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await server.services.db.orm.em.fork().count(User, { email: 'ok@example.org' })).toBe(0);

    // Nobody knows the password yet: no sign-in with anything.
    const guess = await gql(server, M.login, { email: 'invitee@example.org', password: 'melanocytic naevus 9' });
    expect(onlyError(guess).extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
    const token = tokenOf(mail.text);
    const password = 'a chosen passphrase 7';
    expect((await gql(server, M.resetPassword, { token, newPassword: password })).data!.resetPassword).toBe(true);
    const used = await gql(server, M.resetPassword, { token, newPassword: 'another passphrase 8' });
    expect(onlyError(used).extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'TOKEN_USED' });
    const login = await gql(server, M.login, { email: 'invitee@example.org', password });
    expect(login.data!.login.user).toMatchObject({ id: invited.id, role: 'RESEARCHER', emailVerified: true });
    const accepted = (await gql(server, Q.users, { filter: { search: 'invitee' } }, as(admin))).data!.users;
    expect(accepted.edges[0].node).toMatchObject({ invitationPending: false });
    expect((await notPending()).map((e: any) => e.node.id)).toEqual([invited.id]);

    expect(await adminRows(invited.id)).toEqual([
      {
        action: 'USER_INVITED',
        success: true,
        details: { after: { email: 'invitee@example.org', name: 'Dr Invitee', role: 'RESEARCHER', plan: 'PRO' } },
      },
    ]);
  });

  it('sendUserPasswordReset: a new invitation while pending, else a reset link; signOut ends sessions now', async () => {
    const inv = (await gql(server, Q.invite, { input: { email: 'slow@example.org' } }, as(admin))).data!.inviteUser;
    const first = await smtp.waitFor('slow@example.org');
    let before = smtp.messages.length;
    expect((await gql(server, Q.reset, { userId: inv.id }, as(admin))).errors).toBeUndefined();
    const second = await smtp.waitFor('slow@example.org', before);
    expect(second.headers.subject).toBe('You are invited to Dermagraph');
    // The first invitation's link stopped working; the new one works.
    const stale = await gql(server, M.resetPassword, { token: tokenOf(first.text), newPassword: 'slow passphrase 11' });
    expect(onlyError(stale).extensions).toMatchObject({ reason: 'TOKEN_INVALID' });
    const ok = await gql(server, M.resetPassword, { token: tokenOf(second.text), newPassword: 'slow passphrase 11' });
    expect(ok.errors).toBeUndefined();

    // An active account, signed in: signOut ends the session at once; the reset mail says an admin asked.
    const user = await createSignedInUser(server, { email: 'reset-me@example.org' });
    // Its verification mail goes out after the answer: let it arrive first, so it is not taken for the reset mail.
    await server.services.auth.drainBackground();
    before = smtp.messages.length;
    const kept = await gql(server, Q.reset, { userId: user.id }, as(admin));
    expect(kept.errors).toBeUndefined();
    expect((await gql(server, M.me, {}, { token: user.token })).data!.me.id).toBe(user.id);
    const plain = await smtp.waitFor('reset-me@example.org', before);
    expect(plain.text).toContain('Until you use the link, your current password keeps working');
    before = smtp.messages.length;
    await gql(server, Q.reset, { userId: user.id, signOut: true }, as(admin));
    const signedOut = await smtp.waitFor('reset-me@example.org', before);
    expect(signedOut.headers.subject).toBe('Reset your password');
    expect(signedOut.text).toContain('An administrator asked');
    expect(onlyError(await gql(server, M.me, {}, { token: user.token })).extensions).toMatchObject({
      code: 'UNAUTHENTICATED',
    });
    const set = await gql(server, M.resetPassword, {
      token: tokenOf(signedOut.text),
      newPassword: 'reset passphrase 12',
    });
    expect(set.errors).toBeUndefined();

    // Disabled: nothing mailed, CONFLICT; unknown or garbage ids: NOT_FOUND. Each refusal audited with its code.
    await gql(server, M.setUserDisabled, { userId: user.id, disabled: true }, as(admin));
    before = smtp.messages.length;
    const disabled = await gql(server, Q.reset, { userId: user.id }, as(admin));
    expect(onlyError(disabled).extensions).toMatchObject({ code: 'CONFLICT', reason: 'USER_DISABLED' });
    for (const userId of ['00000000-0000-4000-8000-000000000000', 'x'.repeat(5000), "1' or '1'='1"])
      expect(onlyError(await gql(server, Q.reset, { userId }, as(admin))).extensions).toMatchObject({
        code: 'NOT_FOUND',
      });
    await server.services.auth.drainBackground();
    expect(smtp.messages.length).toBe(before);
    expect((await adminRows(inv.id)).map((r) => r.details)).toEqual([
      expect.objectContaining({ after: expect.objectContaining({ email: 'slow@example.org' }) }),
      { signOut: false, link: 'INVITATION' },
    ]);
    expect((await adminRows(user.id)).filter((r) => r.action === 'PASSWORD_RESET_SENT')).toEqual([
      { action: 'PASSWORD_RESET_SENT', success: true, details: { signOut: false, link: 'RESET' } },
      { action: 'PASSWORD_RESET_SENT', success: true, details: { signOut: true, link: 'RESET' } },
      { action: 'PASSWORD_RESET_SENT', success: false, details: { signOut: false, error: 'CONFLICT' } },
    ]);
  });

  it('setUserPlan and setUserName: before and after in the audit row, no row when unchanged, garbage refused', async () => {
    const u = await createSignedInUser(server, { email: 'plain@example.org' });
    expect((await gql(server, Q.plan, { userId: u.id, plan: 'PRO' }, as(admin))).data!.setUserPlan.plan).toBe('PRO');
    await gql(server, Q.plan, { userId: u.id, plan: 'PRO' }, as(admin));
    // The quotas follow the plan at once.
    const dash = await gql(server, `query { myDashboard { plan uploadQuota { limit } } }`, {}, { token: u.token });
    expect(dash.data!.myDashboard).toEqual({
      plan: 'PRO',
      uploadQuota: { limit: server.config.QUOTA_PRO_UPLOADS_PER_MONTH },
    });
    expect((await gql(server, Q.name, { userId: u.id, name: '  Dr Plain  ' }, as(admin))).data!.setUserName.name).toBe(
      'Dr Plain',
    );
    await gql(server, Q.name, { userId: u.id, name: 'Dr Plain' }, as(admin));
    expect((await gql(server, Q.name, { userId: u.id, name: '   ' }, as(admin))).data!.setUserName.name).toBeNull();
    for (const name of ['n'.repeat(201), 'tab\there', '\u0000'])
      expect(onlyError(await gql(server, Q.name, { userId: u.id, name }, as(admin))).extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'name',
      });
    const badPlan = await gql(server, Q.plan, { userId: u.id, plan: 'GOLD' }, as(admin));
    expect(badPlan.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(onlyError(await gql(server, Q.plan, { userId: 'nope', plan: 'FREE' }, as(admin))).extensions).toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await adminRows(u.id)).toEqual([
      { action: 'PLAN_CHANGED', success: true, details: { before: { plan: 'FREE' }, after: { plan: 'PRO' } } },
      { action: 'NAME_CHANGED', success: true, details: { before: { name: null }, after: { name: 'Dr Plain' } } },
      { action: 'NAME_CHANGED', success: true, details: { before: { name: 'Dr Plain' }, after: { name: null } } },
      // NUL is refused by the schema guard before any resolver runs: no row for it.
      ...['n'.repeat(201), 'tab\there'].map(() => ({
        action: 'NAME_CHANGED',
        success: false,
        details: { error: 'BAD_USER_INPUT' },
      })),
    ]);
  });

  it('users: this month’s uploads, predictions, segmentations and reports per account, in one page', async () => {
    const u = await createSignedInUser(server, { email: 'busy@example.org' });
    const patientId = await createPatient(server, u.token);
    const up = await uploadImages(
      server,
      u.token,
      { patientId },
      JPEGS.slice(0, 2).map((n) => ({ name: n, data: fixture(n), type: 'image/jpeg' })),
    );
    expect(up.errors).toBeUndefined();
    const em = server.services.db.orm.em.fork();
    const now = new Date();
    const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const lastMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
    const iso = (d: Date) => d.toISOString().slice(0, 10);
    // This month's row exists already: the uploads above counted themselves in it.
    await em.nativeUpdate(PredictionUsage, { owner: u.id, month: iso(month) }, { count: 3, segmentations: 2 });
    em.create(PredictionUsage, {
      owner: u.id,
      month: iso(lastMonth),
      count: 40,
      segmentations: 40,
      uploads: 40,
    } as never);
    const report = (at: Date) =>
      em.create(Report, {
        owner: u.id,
        kind: ReportKind.CSV,
        status: ReportStatus.DONE,
        imageIds: [],
        imageCount: 0,
        fileName: 'r.csv',
        createdAt: at,
        updatedAt: at,
      } as never);
    report(now);
    report(new Date(month.getTime() - 1000));
    await em.flush();
    const page = (await gql(server, Q.users, {}, as(admin))).data!.users.edges.map((e: any) => e.node);
    const busy = page.find((n: any) => n.email === 'busy@example.org');
    expect(busy.usage).toEqual({
      since: month.toISOString(),
      uploads: 2,
      predictions: 3,
      segmentations: 2,
      reports: 1,
    });
    expect(page.find((n: any) => n.email === 'plain@example.org').usage).toMatchObject({ uploads: 0, predictions: 0 });
    // A page of accounts with their usage: the page, then one statement for every account's usage.
    const counter = await statementCounter(server, admin);
    try {
      const run = await counter.run(Q.users);
      expect(run.errors).toBeUndefined();
      expect(run.data.users.edges.length).toBeGreaterThan(5);
      expect(queries(run.statements).filter((q) => q.includes('prediction_usage'))).toHaveLength(1);
      expect(queries(run.statements).length).toBeLessThanOrEqual(3);
    } finally {
      await counter.close();
    }
  });
});
