import { AuditLog, AuthSession, Patient, PatientEvent, PatientShare, Role, TwoFactor, User } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { createPatient, fixture, JPEGS, uploadImages } from '../patients/helpers';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { gql, M, onlyError } from './helpers';

const DELETE = `mutation($userId: ID!, $successorId: ID) {
  deleteUser(userId: $userId, successorId: $successorId) { userId outcome patientsTransferred patientsArchived successorId } }`;
const SHARE = `mutation($p: ID!, $u: ID!) { sharePatient(patientId: $p, userId: $u) { id } }`;
const INVITE = `mutation($email: String!) { inviteUser(input: { email: $email }) { id } }`;

async function withPatients(server: TestServer, n: number, externalIds: string[] = []) {
  const u = await createSignedInUser(server);
  const ids: string[] = [];
  for (let i = 0; i < n; i++)
    ids.push(await createPatient(server, u.token, externalIds[i] ? { externalId: externalIds[i] } : {}));
  return { u, ids };
}

/** deleteUser ([13]) with ACCOUNT_DELETION_PATIENTS=transfer (the default): patients go to the successor. */
describe('accounts: deleting an account, patients transferred', () => {
  let server: TestServer;
  let admin: SignedInUser;
  const as = (u: SignedInUser) => ({ token: u.token, ip: '198.51.100.120' });
  const em = () => server.services.db.orm.em.fork();

  beforeAll(async () => {
    server = await startTestServer();
    admin = await createSignedInUser(server, { role: Role.ADMIN });
  });
  afterAll(() => server?.close());

  it('a clinician with patients: they move to the successor with a timeline event; the account is anonymised and ends at once', async () => {
    const { u: leaving, ids } = await withPatients(server, 2);
    const successor = await createSignedInUser(server);
    const colleague = await createSignedInUser(server);
    // The successor already had a share of one patient; the leaver held a share of the colleague's patient.
    await gql(server, SHARE, { p: ids[0], u: successor.id }, as(leaving));
    const colleaguesPatient = await createPatient(server, colleague.token);
    await gql(server, SHARE, { p: colleaguesPatient, u: leaving.id }, as(colleague));
    const upload = await uploadImages(server, leaving.token, { patientId: ids[1] }, [
      { name: JPEGS[0], data: fixture(JPEGS[0]), type: 'image/jpeg' },
    ]);
    expect(upload.errors).toBeUndefined();
    const seed = em();
    seed.create(TwoFactor, { user: leaving.id, secretEncrypted: 'x', enabledAt: new Date() } as never);
    await seed.flush();

    // An open socket of the leaver closes when the account is deleted (4403, as for any ended session).
    let closedWith!: (code: number) => void;
    const closed = new Promise<number>((resolve) => (closedWith = resolve));
    await new Promise<void>((connected) =>
      createClient({
        url: server.url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        lazy: false,
        retryAttempts: 0,
        onNonLazyError: () => undefined,
        connectionParams: { authorization: `Bearer ${leaving.token}` },
        on: { connected: () => connected(), closed: (e) => closedWith((e as { code: number }).code) },
      }),
    );

    const res = await gql(server, DELETE, { userId: leaving.id, successorId: successor.id }, as(admin));
    expect(res.errors).toBeUndefined();
    expect(await closed).toBe(4403);
    expect(res.data!.deleteUser).toEqual({
      userId: leaving.id,
      outcome: 'ANONYMISED',
      patientsTransferred: 2,
      patientsArchived: 0,
      successorId: successor.id,
    });
    const e = em();
    expect((await e.find(Patient, { id: { $in: ids } })).map((p) => p.owner.id)).toEqual([successor.id, successor.id]);
    expect(await e.count(PatientShare, { user: { $in: [successor.id, leaving.id] } })).toBe(0);
    const events = await e.find(PatientEvent, { patient: { $in: ids }, actor: admin.id });
    expect(events.map((ev) => ev.changedFields)).toEqual([['owner'], ['owner']]);
    // The successor reads and changes them; the image keeps its (anonymised) uploader.
    const read = await gql(
      server,
      `query($id: ID!) { patient(id: $id) { owner { id } images { edges { node { uploadedBy { deleted } } } } } }`,
      { id: ids[1] },
      as(successor),
    );
    expect(read.errors).toBeUndefined();
    expect(read.data!.patient).toMatchObject({
      owner: { id: successor.id },
      images: { edges: [{ node: { uploadedBy: { deleted: true } } }] },
    });

    const row = await e.findOneOrFail(User, { id: leaving.id });
    expect(row).toMatchObject({ email: `deleted-${leaving.id}@deleted.invalid`, name: null, emailVerifiedAt: null });
    expect(row.deletedAt).toBeInstanceOf(Date);
    expect(row.disabledAt).toBeInstanceOf(Date);
    expect(await e.count(AuthSession, { user: leaving.id })).toBe(0);
    expect(await e.count(TwoFactor, { user: leaving.id })).toBe(0);
    expect(onlyError(await gql(server, M.me, {}, { token: leaving.token })).extensions).toMatchObject({
      code: 'UNAUTHENTICATED',
    });
    expect(
      onlyError(await gql(server, M.login, { email: leaving.email, password: 'x'.repeat(12) })).extensions,
    ).toMatchObject({
      code: 'UNAUTHENTICATED',
    });
    // Gone from users unless asked for; a second deletion or any other change: NOT_FOUND.
    const listed = async (filter: object) =>
      (
        await gql(
          server,
          `query($f: UserFilter) { users(filter: $f, first: 100) { edges { node { id deleted } } } }`,
          { f: filter },
          as(admin),
        )
      ).data!.users.edges.map((x: any) => x.node);
    expect((await listed({})).map((n: any) => n.id)).not.toContain(leaving.id);
    expect(await listed({ deleted: true })).toEqual([{ id: leaving.id, deleted: true }]);
    expect(
      onlyError(await gql(server, DELETE, { userId: leaving.id, successorId: successor.id }, as(admin))).extensions,
    ).toMatchObject({
      code: 'NOT_FOUND',
    });
    const audit = await e.findOneOrFail(AuditLog, { userId: leaving.id, action: 'USER_DELETED', success: true });
    expect(audit).toMatchObject({
      actorId: admin.id,
      details: {
        successorId: successor.id,
        outcome: 'ANONYMISED',
        before: { role: 'CLINICIAN', plan: 'FREE', patientsOwned: 2, invitationPending: false },
        after: { patientsTransferred: 2, patientsArchived: 0 },
      },
    });
    // The audit row keeps no address or name of the person.
    expect(JSON.stringify(audit.details)).not.toContain(leaving.email);
  });

  it('an account nothing points at (an invitation never taken up) is deleted outright', async () => {
    const id = (await gql(server, INVITE, { email: 'never@example.org' }, as(admin))).data!.inviteUser.id;
    const res = await gql(server, DELETE, { userId: id }, as(admin));
    expect(res.data!.deleteUser).toMatchObject({ outcome: 'DELETED', patientsTransferred: 0, successorId: null });
    expect(await em().count(User, { id })).toBe(0);
    // The address is free again.
    expect((await gql(server, INVITE, { email: 'never@example.org' }, as(admin))).errors).toBeUndefined();
  });

  it('two deletions of one account at once: one does it, the other is NOT_FOUND; the patients move once', async () => {
    const { u, ids } = await withPatients(server, 2);
    const successor = await createSignedInUser(server);
    const [a, b] = await Promise.all(
      [1, 2].map(() => gql(server, DELETE, { userId: u.id, successorId: successor.id }, as(admin))),
    );
    const codes = [a, b].map((r) => r.errors?.[0]?.extensions?.code ?? r.data!.deleteUser.outcome).sort();
    expect(codes).toEqual(['ANONYMISED', 'NOT_FOUND']);
    expect(await em().count(PatientEvent, { patient: { $in: ids }, actor: admin.id })).toBe(2);
  });

  it('refusals: no successor for an owner of patients, an ineligible or unknown successor, oneself, a clash of external ids; nothing changes', async () => {
    const { u, ids } = await withPatients(server, 2, ['MRN-CLASH', 'MRN-FREE']);
    const researcher = await createSignedInUser(server, { role: Role.RESEARCHER });
    const clashing = await createSignedInUser(server);
    await createPatient(server, clashing.token, { externalId: 'MRN-CLASH' });
    const disabled = await createSignedInUser(server);
    await gql(server, M.setUserDisabled, { userId: disabled.id, disabled: true }, as(admin));
    const cases: Array<[Record<string, unknown>, Record<string, unknown>]> = [
      [{ userId: u.id }, { code: 'BAD_USER_INPUT', field: 'successorId', reason: 'SUCCESSOR_REQUIRED' }],
      [
        { userId: u.id, successorId: researcher.id },
        { code: 'BAD_USER_INPUT', reason: 'SUCCESSOR_INELIGIBLE' },
      ],
      [
        { userId: u.id, successorId: disabled.id },
        { code: 'BAD_USER_INPUT', reason: 'SUCCESSOR_INELIGIBLE' },
      ],
      [
        { userId: u.id, successorId: u.id },
        { code: 'BAD_USER_INPUT', field: 'successorId' },
      ],
      [{ userId: u.id, successorId: '00000000-0000-4000-8000-000000000000' }, { code: 'NOT_FOUND' }],
      [{ userId: u.id, successorId: "'; drop table users; --" }, { code: 'NOT_FOUND' }],
      [
        { userId: u.id, successorId: clashing.id },
        { code: 'CONFLICT', reason: 'EXTERNAL_ID_TAKEN', patientIds: [ids[0]] },
      ],
      [{ userId: admin.id }, { code: 'BAD_USER_INPUT', reason: 'SELF' }],
      [{ userId: 'x'.repeat(10_000) }, { code: 'NOT_FOUND' }],
    ];
    for (const [vars, ext] of cases)
      expect(onlyError(await gql(server, DELETE, vars, as(admin))).extensions).toMatchObject(ext);
    const e = em();
    expect((await e.find(Patient, { id: { $in: ids } })).map((p) => p.owner.id)).toEqual([u.id, u.id]);
    expect(await e.findOneOrFail(User, { id: u.id })).toMatchObject({ email: u.email, deletedAt: null });
    expect((await gql(server, M.me, {}, { token: u.token })).data!.me.id).toBe(u.id);
    const failures = await e.find(AuditLog, { userId: u.id, action: 'USER_DELETED' });
    expect(failures.every((r) => !r.success)).toBe(true);
    expect(failures.map((r) => r.details!.error).sort()).toEqual(
      [
        'BAD_USER_INPUT',
        'BAD_USER_INPUT',
        'BAD_USER_INPUT',
        'BAD_USER_INPUT',
        'CONFLICT',
        'NOT_FOUND',
        'NOT_FOUND',
      ].sort(),
    );
  });
});

/** ACCOUNT_DELETION_PATIENTS=archive: the patients stay with the anonymised account, archived. */
describe('accounts: deleting an account, patients archived', () => {
  let server: TestServer;
  let admin: SignedInUser;
  const as = (u: SignedInUser) => ({ token: u.token, ip: '198.51.100.121' });

  beforeAll(async () => {
    server = await startTestServer({ env: { ACCOUNT_DELETION_PATIENTS: 'archive' } });
    admin = await createSignedInUser(server, { role: Role.ADMIN });
  });
  afterAll(() => server?.close());

  it('archives every patient (one archived already), refuses a successor, and keeps the records readable by admins', async () => {
    const { u, ids } = await withPatients(server, 3);
    await gql(server, `mutation($id: ID!) { archivePatient(id: $id) { id } }`, { id: ids[2] }, as(u));
    const other = await createSignedInUser(server);
    const refused = await gql(server, DELETE, { userId: u.id, successorId: other.id }, as(admin));
    expect(onlyError(refused).extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'ARCHIVE_MODE' });

    const res = await gql(server, DELETE, { userId: u.id }, as(admin));
    expect(res.data!.deleteUser).toEqual({
      userId: u.id,
      outcome: 'ANONYMISED',
      patientsTransferred: 0,
      patientsArchived: 2,
      successorId: null,
    });
    const patients = await server.services.db.orm.em.fork().find(Patient, { id: { $in: ids } });
    expect(patients.every((p) => p.owner.id === u.id && p.archivedAt)).toBe(true);
    const read = await gql(
      server,
      `query($id: ID!) { patient(id: $id) { archived owner { deleted } } }`,
      { id: ids[0] },
      as(admin),
    );
    expect(read.data!.patient).toEqual({ archived: true, owner: { deleted: true } });
  });
});
