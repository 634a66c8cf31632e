import { Plan, Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { createPatient, errorCode, fixture, JPEGS, PATIENT_FIELDS, snapshot, uploadImages } from './helpers';

const Q = {
  patients: `query($search: String, $first: Int, $after: String) { patients(search: $search, first: $first, after: $after) { edges { cursor node { id externalId displayName } } pageInfo { hasNextPage endCursor } } }`,
  patient: `query($id: ID!) { patient(id: $id) { ${PATIENT_FIELDS} } }`,
  update: `mutation($id: ID!, $input: PatientInput!) { updatePatient(id: $id, input: $input) { ${PATIENT_FIELDS} } }`,
  archive: `mutation($id: ID!) { archivePatient(id: $id) { id archived archivedAt } }`,
  unarchive: `mutation($id: ID!) { unarchivePatient(id: $id) { id archived archivedAt } }`,
  share: `mutation($p: ID!, $u: ID!) { sharePatient(patientId: $p, userId: $u) { id } }`,
  unshare: `mutation($p: ID!, $u: ID!) { unsharePatient(patientId: $p, userId: $u) { id } }`,
  note: `mutation($p: ID!, $t: String!) { addPatientNote(patientId: $p, text: $t) { id text at } }`,
  lesion: `mutation($p: ID!) { createLesion(patientId: $p, input: { bodySite: "left forearm", label: "L1" }) { id bodySite label } }`,
  timeline: `query($id: ID!, $first: Int, $after: String) { patient(id: $id) { timeline(first: $first, after: $after) {
    edges { cursor node { __typename
      ... on PatientCreatedEvent { at } ... on PatientChangedEvent { at changedFields } ... on NoteAddedEvent { text }
      ... on LesionAddedEvent { lesion { id } } ... on ImageUploadedEvent { image { id } } } }
    pageInfo { hasNextPage endCursor } } } }`,
  lesionImages: `query($id: ID!, $first: Int, $after: String) { lesion(id: $id) { images(first: $first, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } }`,
  dashboard: `query { myDashboard { email plan totalUploads totalPatients totalPredictions lastLoginAt createdAt uploadQuota { limit used remaining resetsAt } predictionQuota { limit used } } }`,
};

describe('patients, lesions, access', () => {
  let server: TestServer;
  let alice: SignedInUser;
  let bob: SignedInUser;
  let carol: SignedInUser;
  let admin: SignedInUser;
  let researcher: SignedInUser;

  beforeAll(async () => {
    server = await startTestServer({ env: { QUOTA_FREE_UPLOADS_PER_MONTH: '6' } });
    [alice, bob, carol] = await Promise.all([
      createSignedInUser(server),
      createSignedInUser(server),
      createSignedInUser(server),
    ]);
    admin = await createSignedInUser(server, { role: Role.ADMIN, plan: Plan.PRO });
    researcher = await createSignedInUser(server, { role: Role.RESEARCHER });
  });
  afterAll(() => server?.close());

  it('creates, reads, updates and archives a patient; external ids are unique per owner', async () => {
    const created = await server.gql(
      `mutation($i: PatientInput!) { createPatient(input: $i) { ${PATIENT_FIELDS} } }`,
      { i: { externalId: 'MRN-1', displayName: 'Ada Lovelace', dateOfBirth: '1970-05-01', sex: 'FEMALE' } },
      alice.token,
    );
    expect(created.errors).toBeUndefined();
    const p = (created.data as any).createPatient;
    expect(p).toMatchObject({
      externalId: 'MRN-1',
      displayName: 'Ada Lovelace',
      dateOfBirth: '1970-05-01',
      sex: 'FEMALE',
      archived: false,
    });
    const dup = await server.gql(
      `mutation($i: PatientInput!) { createPatient(input: $i) { id } }`,
      { i: { externalId: 'MRN-1', displayName: 'Other' } },
      alice.token,
    );
    expect(dup.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'input.externalId' });
    // Another owner may use the same external id.
    expect(
      (
        await server.gql(
          `mutation($i: PatientInput!) { createPatient(input: $i) { id } }`,
          { i: { externalId: 'MRN-1', displayName: 'Other' } },
          bob.token,
        )
      ).errors,
    ).toBeUndefined();

    const bad = await server.gql(
      `mutation($i: PatientInput!) { createPatient(input: $i) { id } }`,
      { i: { externalId: '  ', displayName: 'X' } },
      alice.token,
    );
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.externalId' });
    const future = await server.gql(
      `mutation($i: PatientInput!) { createPatient(input: $i) { id } }`,
      { i: { externalId: 'F', displayName: 'X', dateOfBirth: '2999-01-01' } },
      alice.token,
    );
    expect(future.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.dateOfBirth' });

    const upd = await server.gql(
      Q.update,
      {
        id: p.id,
        input: { externalId: 'MRN-1', displayName: 'Ada King', dateOfBirth: '1970-05-01', sex: 'FEMALE', notes: 'n' },
      },
      alice.token,
    );
    expect((upd.data as any).updatePatient).toMatchObject({ displayName: 'Ada King', notes: 'n' });
    const arch = await server.gql(Q.archive, { id: p.id }, alice.token);
    expect((arch.data as any).archivePatient.archived).toBe(true);
    // Archived: still readable, no longer changeable, not listed by default.
    expect((await server.gql(Q.patient, { id: p.id }, alice.token)).data).toMatchObject({
      patient: { id: p.id, archived: true },
    });
    expect(
      errorCode(
        await server.gql(Q.update, { id: p.id, input: { externalId: 'MRN-1', displayName: 'Z' } }, alice.token),
      ),
    ).toBe('CONFLICT');
    expect(errorCode(await server.gql(Q.note, { p: p.id, t: 'x' }, alice.token))).toBe('CONFLICT');
    expect(errorCode(await server.gql(Q.lesion, { p: p.id }, alice.token))).toBe('CONFLICT');
    const list = await server.gql(Q.patients, { search: 'Ada' }, alice.token);
    expect((list.data as any).patients.edges).toEqual([]);
  });

  it('searches by name or external id and pages with opaque cursors bound to their query', async () => {
    for (let i = 0; i < 5; i++)
      await createPatient(server, carol.token, {
        externalId: `SRCH-${i}`,
        displayName: i % 2 ? `Grace Hopper ${i}` : `Alan Turing ${i}`,
      });
    const all: string[] = [];
    let after: string | null = null;
    for (;;) {
      const res: any = await server.gql(Q.patients, { first: 2, after }, carol.token);
      expect(res.errors).toBeUndefined();
      const page: any = res.data.patients;
      all.push(...page.edges.map((e: any) => e.node.externalId));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(all).toEqual(['SRCH-4', 'SRCH-3', 'SRCH-2', 'SRCH-1', 'SRCH-0']);
    const grace = await server.gql(Q.patients, { search: 'hopper' }, carol.token);
    expect((grace.data as any).patients.edges.map((e: any) => e.node.externalId)).toEqual(['SRCH-3', 'SRCH-1']);
    const byMrn = await server.gql(Q.patients, { search: 'srch-2' }, carol.token);
    expect((byMrn.data as any).patients.edges.map((e: any) => e.node.externalId)).toEqual(['SRCH-2']);
    // LIKE wildcards are literal.
    expect((await server.gql(Q.patients, { search: '%' }, carol.token)).data).toEqual({
      patients: { edges: [], pageInfo: { hasNextPage: false, endCursor: null } },
    });

    // A cursor from another query (other search, other user, other connection) is refused.
    const first = (await server.gql(Q.patients, { first: 1 }, carol.token)).data as any;
    const cursor = first.patients.pageInfo.endCursor;
    const pid = await createPatient(server, carol.token);
    const before = await snapshot(server);
    for (const [vars, token] of [
      [{ search: 'hopper', after: cursor }, carol.token],
      [{ after: cursor }, alice.token],
    ] as const) {
      const res = await server.gql(Q.patients, vars, token);
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    }
    const tl = await server.gql(Q.timeline, { id: pid, after: cursor }, carol.token);
    expect(tl.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    expect(errorCode(await server.gql(Q.patients, { after: 'garbage!' }, carol.token))).toBe('BAD_USER_INPUT');
    expect(errorCode(await server.gql(Q.patients, { first: 1000 }, carol.token))).toBe('BAD_USER_INPUT');
    expect(await snapshot(server)).toEqual(before);
  });

  it("answers NOT_FOUND for another clinician's patient on every patient-scoped operation, and changes nothing", async () => {
    const pid = await createPatient(server, alice.token);
    const lesion = ((await server.gql(Q.lesion, { p: pid }, alice.token)).data as any).createLesion.id;
    const up = await uploadImages(server, alice.token, { patientId: pid, lesionId: lesion }, [
      { name: 'a.jpg', data: fixture(JPEGS[0]) },
    ]);
    const imageId = up.data.uploadImages[0].id;
    const before = await snapshot(server);
    const ops: [string, Record<string, unknown>][] = [
      [Q.patient, { id: pid }],
      [Q.update, { id: pid, input: { externalId: 'H', displayName: 'Hacked' } }],
      [Q.archive, { id: pid }],
      [Q.unarchive, { id: pid }],
      [Q.share, { p: pid, u: bob.id }],
      [Q.unshare, { p: pid, u: bob.id }],
      [Q.note, { p: pid, t: 'hi' }],
      [Q.lesion, { p: pid }],
      [Q.timeline, { id: pid }],
      [`query($id: ID!) { lesion(id: $id) { id } }`, { id: lesion }],
      [`query($id: ID!) { image(id: $id) { id } }`, { id: imageId }],
      [Q.lesionImages, { id: lesion }],
    ];
    for (const [q, vars] of ops) {
      const res = await server.gql(q, vars, bob.token);
      expect([q.slice(0, 40), errorCode(res)]).toEqual([q.slice(0, 40), 'NOT_FOUND']);
      // A malformed id reads the same.
      const malformed = Object.fromEntries(
        Object.entries(vars).map(([k, v]) => [k, typeof v === 'string' && v.length === 36 ? 'not-a-uuid' : v]),
      );
      expect(errorCode(await server.gql(q, malformed, bob.token))).toBe('NOT_FOUND');
    }
    const upload = await uploadImages(server, bob.token, { patientId: pid }, [
      { name: 'a.jpg', data: fixture(JPEGS[1]) },
    ]);
    expect(errorCode(upload)).toBe('NOT_FOUND');
    expect(await snapshot(server)).toEqual(before);
    // Bob's list does not show it either.
    const list = (await server.gql(Q.patients, { first: 100 }, bob.token)).data as any;
    expect(list.patients.edges.map((e: any) => e.node.id)).not.toContain(pid);
  });

  it('shares a patient with another clinician; admins see all; researchers see no patient data', async () => {
    const pid = await createPatient(server, alice.token, { displayName: 'Shared Person' });
    expect(errorCode(await server.gql(Q.patient, { id: pid }, bob.token))).toBe('NOT_FOUND');
    // Only the owner shares; sharing with a researcher or an unknown user is refused.
    expect(errorCode(await server.gql(Q.share, { p: pid, u: researcher.id }, alice.token))).toBe('BAD_USER_INPUT');
    expect(
      errorCode(await server.gql(Q.share, { p: pid, u: '00000000-0000-4000-8000-000000000000' }, alice.token)),
    ).toBe('NOT_FOUND');
    expect((await server.gql(Q.share, { p: pid, u: bob.id }, alice.token)).errors).toBeUndefined();
    expect((await server.gql(Q.share, { p: pid, u: bob.id }, alice.token)).errors).toBeUndefined(); // idempotent
    expect((await server.gql(Q.patient, { id: pid }, bob.token)).data).toMatchObject({
      patient: { displayName: 'Shared Person' },
    });
    const list = (await server.gql(Q.patients, { search: 'Shared Person' }, bob.token)).data as any;
    expect(list.patients.edges).toHaveLength(1);
    // The shared clinician may work on it (lesions, uploads) but not re-share it.
    expect((await server.gql(Q.lesion, { p: pid }, bob.token)).errors).toBeUndefined();
    expect(errorCode(await server.gql(Q.share, { p: pid, u: carol.id }, bob.token))).toBe('FORBIDDEN');
    const who = (
      await server.gql(
        `query($id: ID!) { patient(id: $id) { owner { id } sharedWith { id email } } }`,
        { id: pid },
        bob.token,
      )
    ).data as any;
    expect(who.patient).toEqual({ owner: { id: alice.id }, sharedWith: [{ id: bob.id, email: bob.email }] });
    const unshare = Q.unshare;
    expect(errorCode(await server.gql(unshare, { p: pid, u: bob.id }, bob.token))).toBe('FORBIDDEN');

    expect((await server.gql(Q.patient, { id: pid }, admin.token)).data).toMatchObject({ patient: { id: pid } });
    const adminList = (await server.gql(Q.patients, { search: 'Shared Person' }, admin.token)).data as any;
    expect(adminList.patients.edges).toHaveLength(1);

    // Unshared: gone for bob, at once.
    expect((await server.gql(unshare, { p: pid, u: bob.id }, alice.token)).errors).toBeUndefined();
    expect(errorCode(await server.gql(Q.patient, { id: pid }, bob.token))).toBe('NOT_FOUND');

    for (const q of [Q.patients, Q.patient]) {
      expect(errorCode(await server.gql(q, { id: pid }, researcher.token))).toBe('FORBIDDEN');
    }
    expect(
      errorCode(
        await server.gql(
          `mutation($i: PatientInput!) { createPatient(input: $i) { id } }`,
          { i: { externalId: 'R', displayName: 'R' } },
          researcher.token,
        ),
      ),
    ).toBe('FORBIDDEN');
    expect(errorCode(await server.gql(Q.patient, { id: pid }))).toBe('UNAUTHENTICATED');
  });

  // Issue [7], "Authorisation that lags behind changes": a sharee could archive the owner's patient
  // and nothing could unarchive it. Only the owner or an admin archives; unarchivePatient undoes it.
  it('lets only the owner or an admin archive and unarchive, with a timeline event each way', async () => {
    const pid = await createPatient(server, alice.token, { displayName: 'Archive Rules' });
    await server.gql(Q.share, { p: pid, u: bob.id }, alice.token);
    const before = await snapshot(server);
    const byBob = await server.gql(Q.archive, { id: pid }, bob.token);
    expect(byBob.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN' });
    expect(await snapshot(server)).toEqual(before);
    expect((await server.gql(Q.patient, { id: pid }, alice.token)).data).toMatchObject({
      patient: { archived: false },
    });

    expect((await server.gql(Q.archive, { id: pid }, alice.token)).data).toMatchObject({
      archivePatient: { archived: true },
    });
    expect(errorCode(await server.gql(Q.unarchive, { id: pid }, bob.token))).toBe('FORBIDDEN');
    expect(errorCode(await server.gql(Q.note, { p: pid, t: 'while archived' }, alice.token))).toBe('CONFLICT');
    const back = await server.gql(Q.unarchive, { id: pid }, alice.token);
    expect(back.data).toMatchObject({ unarchivePatient: { id: pid, archived: false, archivedAt: null } });
    // Changeable again, by the owner and the sharee.
    expect((await server.gql(Q.note, { p: pid, t: 'back again' }, bob.token)).errors).toBeUndefined();
    // A repeat is a no-op (no second event); an admin may archive and unarchive too.
    expect((await server.gql(Q.unarchive, { id: pid }, alice.token)).errors).toBeUndefined();
    expect((await server.gql(Q.archive, { id: pid }, admin.token)).data).toMatchObject({
      archivePatient: { archived: true },
    });
    expect((await server.gql(Q.unarchive, { id: pid }, admin.token)).data).toMatchObject({
      unarchivePatient: { archived: false },
    });
    const tl = (await server.gql(Q.timeline, { id: pid }, alice.token)).data as any;
    const changes = tl.patient.timeline.edges
      .map((e: any) => e.node)
      .filter((n: any) => n.__typename === 'PatientChangedEvent')
      .map((n: any) => n.changedFields);
    expect(changes).toEqual([['unarchived'], ['archived'], ['unarchived'], ['archived']]);
  });

  it('keeps a timeline of everything about a patient, newest first, as one paged connection', async () => {
    const pid = await createPatient(server, alice.token, { externalId: 'TL-1' });
    await server.gql(Q.update, { id: pid, input: { externalId: 'TL-1', displayName: 'Renamed' } }, alice.token);
    const lesion = ((await server.gql(Q.lesion, { p: pid }, alice.token)).data as any).createLesion.id;
    const up = await uploadImages(server, alice.token, { patientId: pid, lesionId: lesion }, [
      { name: 'a.jpg', data: fixture(JPEGS[2]) },
    ]);
    expect(up.errors).toBeUndefined();
    const note = await server.gql(Q.note, { p: pid, t: 'Follow up in 3 months' }, alice.token);
    expect((note.data as any).addPatientNote.text).toBe('Follow up in 3 months');

    const kinds: string[] = [];
    let after: string | null = null;
    for (;;) {
      const res: any = await server.gql(Q.timeline, { id: pid, first: 2, after }, alice.token);
      expect(res.errors).toBeUndefined();
      const t: any = res.data.patient.timeline;
      kinds.push(...t.edges.map((e: any) => e.node.__typename));
      if (!t.pageInfo.hasNextPage) break;
      after = t.pageInfo.endCursor;
    }
    expect(kinds).toEqual([
      'NoteAddedEvent',
      'ImageUploadedEvent',
      'LesionAddedEvent',
      'PatientChangedEvent',
      'PatientCreatedEvent',
    ]);
    const full = ((await server.gql(Q.timeline, { id: pid }, alice.token)).data as any).patient.timeline.edges;
    expect(full[3].node.changedFields).toEqual(['displayName']);
    expect(full[2].node.lesion.id).toBe(lesion);

    // Lesion.images follows the lesion over time, newest first.
    await uploadImages(server, alice.token, { patientId: pid, lesionId: lesion }, [
      { name: 'b.jpg', data: fixture(JPEGS[1]) },
    ]);
    const liRes = await server.gql(Q.lesionImages, { id: lesion, first: 1 }, alice.token);
    expect(liRes.errors).toBeUndefined();
    const li = (liRes.data as any).lesion.images;
    expect(li.pageInfo.hasNextPage).toBe(true);
    const next = (
      (await server.gql(Q.lesionImages, { id: lesion, first: 1, after: li.pageInfo.endCursor }, alice.token))
        .data as any
    ).lesion.images;
    expect(next.edges[0].node.id).toBe(up.data.uploadImages[0].id);
    expect(next.pageInfo.hasNextPage).toBe(false);
  });

  it('shows the dashboard and enforces the monthly upload quota of the plan with a clear error', async () => {
    const dave = await createSignedInUser(server);
    const pid = await createPatient(server, dave.token);
    const d0 = ((await server.gql(Q.dashboard, {}, dave.token)).data as any).myDashboard;
    expect(d0).toMatchObject({
      email: dave.email,
      plan: 'FREE',
      totalUploads: 0,
      totalPatients: 1,
      totalPredictions: 0,
      uploadQuota: { limit: 6, used: 0, remaining: 6 },
    });
    expect(d0.lastLoginAt).not.toBeNull();
    const files = JPEGS.map((n) => ({ name: n, data: fixture(n) }));
    expect((await uploadImages(server, dave.token, { patientId: pid }, [...files, ...files])).errors).toBeUndefined();
    const before = await snapshot(server);
    const over = await uploadImages(server, dave.token, { patientId: pid }, [files[0]]);
    expect(over.errors?.[0].extensions).toMatchObject({
      code: 'RATE_LIMITED',
      reason: 'QUOTA_EXCEEDED',
      quota: 'uploads',
      plan: 'FREE',
      limit: 6,
      used: 6,
    });
    expect(over.errors?.[0].message).toMatch(/quota/);
    expect(await snapshot(server)).toEqual(before);
    const d1 = ((await server.gql(Q.dashboard, {}, dave.token)).data as any).myDashboard;
    expect(d1).toMatchObject({ totalUploads: 6, uploadQuota: { used: 6, remaining: 0 } });
    // Concurrent batches cannot pass the quota together: 8 at once against a quota of 6.
    const erin = await createSignedInUser(server);
    const erinPatient = await createPatient(server, erin.token);
    const racing = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        uploadImages(
          server,
          erin.token,
          { patientId: erinPatient },
          [{ name: `${i}.jpg`, data: Buffer.concat([fixture(JPEGS[i % 3]), Buffer.from(`#${i}`)]) }],
          'id',
        ),
      ),
    );
    expect(racing.filter((r) => !r.errors)).toHaveLength(6);
    expect(racing.filter((r) => errorCode(r) === 'RATE_LIMITED')).toHaveLength(2);
    // PRO plans have their own limits.
    const pro = ((await server.gql(Q.dashboard, {}, admin.token)).data as any).myDashboard;
    expect(pro.plan).toBe('PRO');
    expect(pro.uploadQuota.limit).toBe(server.config.QUOTA_PRO_UPLOADS_PER_MONTH);
  });
});
