import { AuditLog, Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { createPatient } from './helpers';

/** Patient-data access in the audit log ([13]): reads by id, shares and unshares. */
describe('patients: reads and shares audited', () => {
  let server: TestServer;
  let owner: SignedInUser;
  let colleague: SignedInUser;
  let admin: SignedInUser;
  let patientId: string;
  const rows = async (action: string, actorId?: string) =>
    (
      await server.services.db.orm.em
        .fork()
        .find(AuditLog, { action, ...(actorId ? { actorId } : {}) }, { orderBy: { createdAt: 'asc', id: 'asc' } })
    ).map((r) => ({ userId: r.userId, actorId: r.actorId, success: r.success, details: r.details }));

  beforeAll(async () => {
    server = await startTestServer();
    owner = await createSignedInUser(server);
    colleague = await createSignedInUser(server);
    admin = await createSignedInUser(server, { role: Role.ADMIN });
    patientId = await createPatient(server, owner.token);
  });
  afterAll(() => server?.close());

  it('patient(id) and node(id): one PATIENT_READ row per patient per request, by the reader; none for a refused read or a list', async () => {
    const both = `query($id: ID!, $other: ID!) {
      a: patient(id: $id) { id } b: patient(id: $id) { displayName } n: node(id: $id) { id } o: patient(id: $other) { id } }`;
    const second = await createPatient(server, owner.token);
    const res = await server.gql(both, { id: patientId, other: second }, owner.token);
    expect(res.errors).toBeUndefined();
    // The root fields resolve concurrently (their reads in one round trip), so the two rows have no order.
    const read = await rows('PATIENT_READ');
    expect(read).toHaveLength(2);
    expect(read).toEqual(
      expect.arrayContaining([
        { userId: owner.id, actorId: owner.id, success: true, details: { patientId } },
        { userId: owner.id, actorId: owner.id, success: true, details: { patientId: second } },
      ]),
    );
    // Another request is another row; the admin's read is recorded as the admin's.
    await server.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: patientId }, admin.token);
    expect(await rows('PATIENT_READ', admin.id)).toEqual([
      { userId: admin.id, actorId: admin.id, success: true, details: { patientId } },
    ]);
    // A patient the caller may not see (NOT_FOUND), garbage ids and the list: no rows.
    const hidden = await server.gql(`query($id: ID!) { patient(id: $id) { id } }`, { id: patientId }, colleague.token);
    expect(hidden.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    await server.gql(`query { patient(id: "not-a-uuid") { id } }`, {}, colleague.token);
    await server.gql(`query { patients(first: 50) { edges { node { id } } } }`, {}, colleague.token);
    expect(await rows('PATIENT_READ', colleague.id)).toEqual([]);
  });

  it('sharePatient / unsharePatient: about the sharee, by the caller, before and after; repeats write nothing; refusals their code', async () => {
    const share = `mutation($p: ID!, $u: ID!) { sharePatient(patientId: $p, userId: $u) { id } }`;
    const unshare = `mutation($p: ID!, $u: ID!) { unsharePatient(patientId: $p, userId: $u) { id } }`;
    const vars = { p: patientId, u: colleague.id };
    expect((await server.gql(share, vars, owner.token)).errors).toBeUndefined();
    await server.gql(share, vars, owner.token);
    // The sharee may read now, and may not share on (FORBIDDEN, recorded).
    expect(
      (await server.gql(share, { p: patientId, u: admin.id }, colleague.token)).errors?.[0]?.extensions?.code,
    ).toBe('FORBIDDEN');
    expect((await server.gql(unshare, vars, owner.token)).errors).toBeUndefined();
    await server.gql(unshare, vars, owner.token);
    const by = (id: string) => ({ userId: colleague.id, actorId: id, details: { patientId } });
    expect(await rows('PATIENT_SHARED')).toEqual([
      { ...by(owner.id), success: true, details: { patientId, before: { shared: false }, after: { shared: true } } },
      { userId: admin.id, actorId: colleague.id, success: false, details: { patientId, error: 'FORBIDDEN' } },
    ]);
    expect(await rows('PATIENT_UNSHARED')).toEqual([
      { ...by(owner.id), success: true, details: { patientId, before: { shared: true }, after: { shared: false } } },
    ]);
    // Garbage ids: refused as before, recorded without an id that is not one.
    const bad = await server.gql(share, { p: 'x'.repeat(300), u: "' or 1=1 --" }, owner.token);
    expect(bad.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const last = (await rows('PATIENT_SHARED')).at(-1);
    expect(last).toEqual({
      userId: null,
      actorId: owner.id,
      success: false,
      details: { patientId: null, error: 'NOT_FOUND' },
    });
    // Researchers may not share at all: FORBIDDEN by role, before any row.
    const researcher = await createSignedInUser(server, { role: Role.RESEARCHER });
    expect((await server.gql(share, vars, researcher.token)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await rows('PATIENT_SHARED', researcher.id)).toEqual([]);
  });
});
