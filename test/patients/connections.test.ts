import { AuditLog, Lesion, PatientEvent, PatientEventKind, Prediction, Role } from '../../src/entities';
import { seedSegmentation } from '../support/results';
import { statementCounter } from '../support/statements';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { createPatient, errorCode, fixture, JPEGS, uploadImages } from './helpers';

const member = (model: string) => ({ model, version: '1.0.0', requested: 'cpu', device: 'cpu', weight: 1 });
const day = (d: number) => new Date(Date.UTC(2026, 9, d, 12));

/**
 * Connections a client pages and counts: totalCount on each (counted only when asked for), the patient
 * timeline and the audit log read backwards with last/before, time windows as since/until, the
 * enums of the audit log and the timeline, dateOfBirth as a LocalDate, and root queries that a refusal
 * nulls alone.
 */
describe('connections, windows and refusals', () => {
  let server: TestServer;
  let alice: SignedInUser;
  let admin: SignedInUser;
  let researcher: SignedInUser;
  let subject: SignedInUser;
  let patientId: string;
  let lesionId: string;

  beforeAll(async () => {
    server = await startTestServer();
    alice = await createSignedInUser(server, { role: Role.CLINICIAN });
    admin = await createSignedInUser(server, { role: Role.ADMIN });
    researcher = await createSignedInUser(server, { role: Role.RESEARCHER });
    subject = await createSignedInUser(server, { role: Role.CLINICIAN });
    patientId = await createPatient(server, alice.token, { displayName: 'Counted Patient' });
    await createPatient(server, alice.token, { displayName: 'Counted Other' });
    await createPatient(server, alice.token, { displayName: 'Someone Else' });
    const up = await uploadImages(server, alice.token, { patientId }, [
      { name: 'a.jpg', data: fixture(JPEGS[0]) },
      { name: 'b.jpg', data: fixture(JPEGS[1]) },
    ]);
    const imageId = up.data.uploadImages[0].id;
    const em = server.services.db.orm.em.fork();
    const lesion = em.create(Lesion, {
      patient: patientId,
      bodySite: 'back',
      label: 'L1',
      createdAt: day(1),
      updatedAt: day(1),
    });
    lesionId = lesion.id;
    // Seven notes, a segmentation and two predictions on the timeline, older than the record's creation.
    for (let i = 2; i <= 8; i++)
      em.create(PatientEvent, {
        patient: patientId,
        kind: PatientEventKind.NOTE_ADDED,
        text: `note ${i}`,
        createdAt: day(i),
      });
    seedSegmentation(em, {
      owner: alice.id,
      imageId,
      patientId,
      members: [member('dg-unet')],
      at: day(9),
    });
    for (const [d, model] of [
      [10, 'dg-a'],
      [11, 'dg-b'],
    ] as const)
      em.create(Prediction, {
        owner: alice.id,
        imageId,
        patientId,
        label: 'nevus',
        confidence: 0.8,
        malignant: false,
        malignantProbability: 0.2,
        probabilities: [],
        members: [member(model)],
        createdAt: day(d),
        updatedAt: day(d),
      } as never);
    // Five LOGOUT rows and one LOGOUT_ALL about one account, a day apart.
    for (let i = 1; i <= 6; i++)
      em.create(AuditLog, {
        userId: subject.id,
        action: i === 6 ? 'LOGOUT_ALL' : 'LOGOUT',
        success: true,
        createdAt: day(i),
        updatedAt: day(i),
      } as never);
    await em.flush();
  });
  afterAll(() => server?.close());

  const TIMELINE = `query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) { patient(id: $id) {
    timeline(first: $first, after: $after, last: $last, before: $before) {
      totalCount edges { cursor node { __typename ... on NoteAddedEvent { text } ... on SegmentationEvent { severity } } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }`;
  const timeline = async (vars: Record<string, unknown>) => {
    const res = await server.gql<any>(TIMELINE, { id: patientId, ...vars }, alice.token);
    expect(res.errors).toBeUndefined();
    return res.data.patient.timeline;
  };
  const cursors = (page: any): string[] => page.edges.map((e: any) => e.cursor);

  it('the timeline counts its events and reads the same backwards (last/before) as forwards, newest first', async () => {
    // Forwards: the record's creation, two images, two predictions, the segmentation, the lesion, 7 notes.
    const forward: string[] = [];
    let page = await timeline({ first: 5 });
    const total = page.totalCount;
    expect(total).toBe(14);
    for (;;) {
      expect(page.totalCount).toBe(total);
      forward.push(...cursors(page));
      if (!page.pageInfo.hasNextPage) break;
      page = await timeline({ first: 5, after: page.pageInfo.endCursor });
    }
    expect(forward).toHaveLength(total);

    // Backwards from the oldest: last 5, then the 5 newer, then the rest; each page newest first.
    const back: string[][] = [];
    page = await timeline({ last: 5 });
    expect(page.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    expect(page.edges.at(-1).node).toEqual({ __typename: 'LesionAddedEvent' });
    for (;;) {
      back.unshift(cursors(page));
      if (!page.pageInfo.hasPreviousPage) break;
      page = await timeline({ last: 5, before: page.pageInfo.startCursor });
      expect(page.pageInfo.hasNextPage).toBe(true);
    }
    expect(back.map((p) => p.length)).toEqual([4, 5, 5]);
    expect(back.flat()).toEqual(forward);

    // A forward page's endCursor taken back: the events just newer than it.
    const second = await timeline({ first: 5, after: forward[4] });
    const before = await timeline({ last: 2, before: second.pageInfo.startCursor });
    expect(cursors(before)).toEqual(forward.slice(3, 5));
    const seg = (await timeline({ first: total })).edges.find((e: any) => e.node.__typename === 'SegmentationEvent');
    expect(seg.node.severity).toBe('MODERATE');
  });

  it('refuses a page read both ways at once, and a cursor of another query as `before`', async () => {
    const res = await server.gql<any>(TIMELINE, { id: patientId, first: 2, last: 2 }, alice.token);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'last' });
    const other = await server.gql<any>(`query { patients(first: 1) { pageInfo { endCursor } } }`, {}, alice.token);
    const foreign = await server.gql<any>(
      TIMELINE,
      { id: patientId, last: 2, before: other.data.patients.pageInfo.endCursor },
      alice.token,
    );
    expect(foreign.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'before',
      reason: 'CURSOR_QUERY_MISMATCH',
    });
  });

  const AUDIT = `query($f: AuditLogFilter, $first: Int, $after: String, $last: Int, $before: String) {
    auditLog(filter: $f, first: $first, after: $after, last: $last, before: $before) {
      totalCount edges { cursor node { action createdAt } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;

  it('the audit log: AuditAction values, totalCount of the filter, and last/before from the oldest entry', async () => {
    const f = { userId: subject.id, action: 'LOGOUT' };
    const all = (await server.gql<any>(AUDIT, { f }, admin.token)).data.auditLog;
    expect(all.totalCount).toBe(5);
    expect(all.edges.map((e: any) => e.node.createdAt)).toEqual([5, 4, 3, 2, 1].map((d) => day(d).toISOString()));
    expect(new Set(all.edges.map((e: any) => e.node.action))).toEqual(new Set(['LOGOUT']));
    const oldest = (await server.gql<any>(AUDIT, { f, last: 2 }, admin.token)).data.auditLog;
    expect(oldest.edges.map((e: any) => e.node.createdAt)).toEqual([day(2).toISOString(), day(1).toISOString()]);
    expect(oldest).toMatchObject({ totalCount: 5, pageInfo: { hasPreviousPage: true, hasNextPage: false } });
    const newer = (await server.gql<any>(AUDIT, { f, last: 2, before: oldest.pageInfo.startCursor }, admin.token)).data
      .auditLog;
    expect(cursors(newer)).toEqual(cursors(all).slice(1, 3));
    const newest = (await server.gql<any>(AUDIT, { f, last: 5, before: newer.pageInfo.startCursor }, admin.token)).data
      .auditLog;
    expect(cursors(newest)).toEqual(cursors(all).slice(0, 1));
    expect(newest.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
    // The other action of the same account is its own enum value; the window is since/until.
    const window = { userId: subject.id, since: day(2).toISOString(), until: day(6).toISOString() };
    expect((await server.gql<any>(AUDIT, { f: window }, admin.token)).data.auditLog.totalCount).toBe(4);
    const rest = await server.gql<any>(AUDIT, { f: { userId: subject.id, action: 'LOGOUT_ALL' } }, admin.token);
    expect(rest.data.auditLog).toMatchObject({ totalCount: 1, edges: [{ node: { action: 'LOGOUT_ALL' } }] });
  });

  it('an action the server does not record is a validation error (HTTP 400), not an empty page', async () => {
    const res = await server.gql<any>(AUDIT, { f: { action: 'LOGGED_OUT' } }, admin.token);
    expect(res.status).toBe(400);
    expect(errorCode(res)).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].message).toMatch(/AuditAction/);
    expect(res.data).toBeUndefined();
  });

  it('totalCount counts the rows the query matches across pages, its filters and window applied', async () => {
    const q = `query($id: ID!, $lesion: ID!, $since: DateTime) {
      patients(first: 1, search: "Counted") { totalCount edges { node { id } } }
      patient(id: $id) {
        images(first: 1) { totalCount }
        recent: images(first: 1, since: $since) { totalCount }
        older: images(first: 1, until: $since) { totalCount }
        predictions(first: 1) { totalCount }
        dgA: predictions(model: "dg-a") { totalCount edges { node { id } } }
        segmentations { totalCount }
        timeline(first: 1) { totalCount }
      }
      lesion(id: $lesion) { images { totalCount } }
    }`;
    const vars = { id: patientId, lesion: lesionId, since: new Date(Date.now() - 3_600_000).toISOString() };
    const res = await server.gql<any>(q, vars, alice.token);
    expect(res.errors).toBeUndefined();
    expect(res.data.patients).toMatchObject({ totalCount: 2, edges: [expect.anything()] });
    expect(res.data.patient).toMatchObject({
      images: { totalCount: 2 },
      recent: { totalCount: 2 },
      older: { totalCount: 0 },
      predictions: { totalCount: 2 },
      dgA: { totalCount: 1, edges: [expect.anything()] },
      segmentations: { totalCount: 1 },
      timeline: { totalCount: 14 },
    });
    expect(res.data.lesion.images.totalCount).toBe(0);
    const users = await server.gql<any>(
      `query { users(first: 1, filter: { role: RESEARCHER }) { totalCount edges { node { id } } } }`,
      {},
      admin.token,
    );
    expect(users.data.users.totalCount).toBeGreaterThanOrEqual(1);
    expect(users.data.users.edges).toHaveLength(1);
  });

  it('lesionMetrics: since/until window and totalCount; `from` is not an argument any more', async () => {
    const q = `query($f: MetricsFilter) { lesionMetrics(first: 1, filter: $f) { totalCount edges { node { severity } } } }`;
    const inside = { since: day(9).toISOString(), until: day(10).toISOString() };
    const res = await server.gql<any>(q, { f: inside }, researcher.token);
    expect(res.data.lesionMetrics).toMatchObject({ totalCount: 1, edges: [{ node: { severity: 'MODERATE' } }] });
    const after = await server.gql<any>(q, { f: { since: day(10).toISOString() } }, researcher.token);
    expect(after.data.lesionMetrics.totalCount).toBe(0);
    const reversed = await server.gql<any>(
      q,
      { f: { since: day(10).toISOString(), until: day(9).toISOString() } },
      researcher.token,
    );
    expect(reversed.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.since' });
    const old = await server.gql<any>(q, { f: { from: day(1).toISOString() } }, researcher.token);
    expect(old.status).toBe(400);
    expect(old.errors?.[0].message).toMatch(/"from" is not defined/);
  });

  it('dateOfBirth is one LocalDate in and out: the string given is the string read', async () => {
    const id = await createPatient(server, alice.token, { dateOfBirth: '1980-02-29' });
    const read = await server.gql<any>(`query($id: ID!) { patient(id: $id) { dateOfBirth } }`, { id }, alice.token);
    expect(read.data.patient.dateOfBirth).toBe('1980-02-29');
    const literal = await server.gql<any>(
      `mutation($id: ID!) { updatePatient(id: $id, input: { externalId: "LD-1", displayName: "X", dateOfBirth: "1979-12-31" }) { dateOfBirth } }`,
      { id },
      alice.token,
    );
    expect(literal.data.updatePatient.dateOfBirth).toBe('1979-12-31');
    for (const bad of ['1981-02-29', '1980-2-29', '1980-02-29T00:00:00Z']) {
      const res = await server.gql<any>(
        `mutation($i: PatientInput!) { createPatient(input: $i) { id } }`,
        { i: { externalId: `BAD-${bad}`, displayName: 'X', dateOfBirth: bad } },
        alice.token,
      );
      expect([bad, res.status, errorCode(res)]).toEqual([bad, 400, 'BAD_USER_INPUT']);
    }
  });

  it('a root field refused for its role is null with FORBIDDEN; its siblings keep their data (HTTP 200)', async () => {
    const q = `query { me { id } patients(first: 1) { totalCount } users { totalCount } auditLog(first: 1) { totalCount } systemStatus { version } }`;
    const res = await server.gql<any>(q, {}, alice.token);
    expect(res.status).toBe(200);
    expect(res.data).toEqual({
      me: { id: alice.id },
      patients: { totalCount: 4 },
      users: null,
      auditLog: null,
      systemStatus: null,
    });
    expect(res.errors?.map((e: any) => [e.path, e.extensions.code]).sort()).toEqual([
      [['auditLog'], 'FORBIDDEN'],
      [['systemStatus'], 'FORBIDDEN'],
      [['users'], 'FORBIDDEN'],
    ]);
    // Without a token: the public field answers, the others are UNAUTHENTICATED.
    const anon = await server.gql<any>(`query { me { id } patients { totalCount } models { name } }`);
    expect(anon.status).toBe(200);
    expect(anon.data).toEqual({ me: null, patients: null, models: null });
    expect(anon.errors?.map((e: any) => e.extensions.code)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);
  });

  it('counts only when totalCount is selected', async () => {
    const counter = await statementCounter(server, alice);
    try {
      const run = async (source: string) => {
        const res = await counter.run(source);
        expect(res.errors).toBeUndefined();
        return res.statements.filter((s) => /count\(/i.test(s)).length;
      };
      expect(await run(`{ patients(first: 2) { edges { node { id } } } }`)).toBe(0);
      expect(await run(`{ patients(first: 2) { totalCount edges { node { id } } } }`)).toBe(1);
    } finally {
      await counter.close();
    }
  });
});
