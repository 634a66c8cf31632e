import type { GraphQLSchema } from 'graphql';
import type { Client } from 'graphql-ws';
import { Role } from '../../src/entities';
import { buildAppSchema } from '../../src/schema/build';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { connectWs } from '../support/ws';
import { connections, fullPage } from '../support/connections';
import { createPatient, fixture, JPEGS, uploadImages } from '../patients/helpers';

/**
 * Issue [9], "Limits that agree with each other": with the default limits, the largest page of every
 * connection is accepted; an operation over a limit is refused before any resolver runs, with
 * QUERY_TOO_COMPLEX and the limit's reason, HTTP 400 (a token-limit refusal was a 500), and the same
 * over WebSocket.
 */
let server: TestServer;
let schema: GraphQLSchema;
let admin: SignedInUser;
/** An object of each type whose connections are walked (reached through `<type>(id:)`). */
const ids: Record<string, string> = {};

beforeAll(async () => {
  server = await startTestServer();
  schema = await buildAppSchema();
  admin = await createSignedInUser(server, { role: Role.ADMIN });
  const clinician = await createSignedInUser(server, { role: Role.CLINICIAN });
  ids.Patient = await createPatient(server, clinician.token);
  const lesion = await server.gql<{ createLesion: { id: string } }>(
    'mutation($p: ID!) { createLesion(patientId: $p, input: { bodySite: "left forearm", label: "L1" }) { id } }',
    { p: ids.Patient },
    clinician.token,
  );
  ids.Lesion = lesion.data!.createLesion.id;
  const up = await uploadImages(server, clinician.token, { patientId: ids.Patient, lesionId: ids.Lesion }, [
    { name: 'a.jpg', data: fixture(JPEGS[0]) },
  ]);
  ids.Image = up.data.uploadImages[0].id;
});
afterAll(() => server?.close());

/** The operation that reads one connection's page of `first` with `selection`, and its variables. */
function pageQuery(type: string, field: string, first: number, selection: string) {
  if (type === 'Query') return { query: `{ ${field}(first: ${first}) { ${selection} } }`, variables: {} };
  const getter = type.charAt(0).toLowerCase() + type.slice(1);
  return {
    query: `query($id: ID!) { ${getter}(id: $id) { ${field}(first: ${first}) { ${selection} } } }`,
    variables: { id: ids[type] },
  };
}

const nested = (n: number) =>
  `{ patients(first: ${n}) { edges { node { images(first: 100) { edges { node { id } } } } } } }`;

describe('the default limits and the largest pages', () => {
  it('accept the largest page of every connection with everything a page shows; one more item is BAD_USER_INPUT naming the maximum', async () => {
    const walked: string[] = [];
    for (const { type, field, max } of connections(schema)) {
      if (type !== 'Query' && !ids[type]) continue; // reached only through another connection: query-cost.test.ts prices it
      const full = pageQuery(type, field.name, max, fullPage(schema, field));
      const res = await server.gql(full.query, full.variables, admin.token);
      expect({ at: `${type}.${field.name}`, status: res.status, errors: res.errors }).toEqual({
        at: `${type}.${field.name}`,
        status: 200,
        errors: undefined,
      });
      const over = pageQuery(type, field.name, max + 1, 'pageInfo { hasNextPage }');
      const refused = await server.gql(over.query, over.variables, admin.token);
      expect({ at: `${type}.${field.name}`, error: refused.errors?.[0] }).toMatchObject({
        error: {
          message: expect.stringContaining(`between 1 and ${max}`),
          extensions: { code: 'BAD_USER_INPUT', field: 'first' },
        },
      });
      walked.push(`${type}.${field.name}`);
    }
    expect(walked).toEqual(
      expect.arrayContaining([
        'Query.patients',
        'Query.lesionMetrics',
        'Query.auditLog',
        'Query.users',
        'Patient.images',
        'Patient.timeline',
        'Lesion.images',
      ]),
    );
  });

  it("accepts the README's lesionMetrics(first: 100) example", async () => {
    const res = await server.gql(
      `{ lesionMetrics(first: 100) { exportId edges { node { id subject image modelVersions severity label confidence
         metrics { areaPercent circularity } } } pageInfo { hasNextPage endCursor } } }`,
      {},
      admin.token,
    );
    expect([res.status, res.errors]).toEqual([200, undefined]);
  });
});

describe('refusals over HTTP', () => {
  it('refuses an operation over the cost limit with 400 QUERY_TOO_COMPLEX (COST), whether the page size is written or a variable', async () => {
    // 1 + 100 x (1 + 1 + (1 + 100 x 3)) = 30301 > 30000; 99 patients fit (29998).
    expect((await server.gql(nested(99), {}, admin.token)).errors).toBeUndefined();
    for (const [query, variables] of [
      [nested(100), {}],
      [
        'query($n: Int) { patients(first: $n) { edges { node { images(first: 100) { edges { node { id } } } } } } }',
        { n: 100 },
      ],
    ] as const) {
      const res = await server.gql(query, variables, admin.token);
      expect(res.status).toBe(400);
      expect(res.data).toBeUndefined();
      expect(res.errors).toEqual([
        {
          message: 'Query cost 30301 exceeds the limit of 30000: ask for smaller pages or fewer nested connections',
          extensions: { code: 'QUERY_TOO_COMPLEX', reason: 'COST', max: 30000, cost: 30301 },
        },
      ]);
    }
  });

  it('refuses past the token limit with 400 (not 500) QUERY_TOO_COMPLEX (TOKENS)', async () => {
    const res = await server.gql(`{ ${Array.from({ length: 2500 }, () => '__typename').join(' ')} }`);
    expect(res.status).toBe(400);
    expect(res.errors).toEqual([
      {
        message: 'The document has more than 2000 tokens',
        locations: [expect.any(Object)],
        extensions: { code: 'QUERY_TOO_COMPLEX', reason: 'TOKENS', max: 2000 },
      },
    ]);
    // A plain syntax error keeps its code.
    const syntax = await server.gql('{ me { ');
    expect([syntax.status, syntax.errors?.[0].extensions?.code]).toEqual([400, 'GRAPHQL_PARSE_FAILED']);
  });

  it('refuses past the depth and alias limits with 400 QUERY_TOO_COMPLEX (DEPTH, ALIASES)', async () => {
    // 13 levels: patients, edges, node, 4 x (lesions, patient), lesions, id.
    const deep = await server.gql(
      `{ patients { edges { node { ${'lesions { patient { '.repeat(4)} lesions { id } ${'} } '.repeat(4)} } } } }`,
    );
    expect(deep.status).toBe(400);
    expect(deep.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/^Query depth limit of 12 exceeded/),
      extensions: { code: 'QUERY_TOO_COMPLEX', reason: 'DEPTH', max: 12 },
    });
    const aliases = await server.gql(`{ ${Array.from({ length: 16 }, (_, i) => `a${i}: me { id }`).join(' ')} }`);
    expect(aliases.status).toBe(400);
    expect(aliases.errors?.[0].extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', reason: 'ALIASES', max: 15 });
    expect(JSON.stringify([deep, aliases])).not.toMatch(/syntax error/i);
  });
});

describe('refusals over WebSocket', () => {
  let ws: Client;
  beforeAll(async () => {
    ws = await connectWs(server.url, admin.token);
  });
  afterAll(() => ws?.dispose());

  const first = async (query: string, variables: Record<string, unknown> = {}) => {
    try {
      return (await ws.iterate({ query, variables }).next()).value as { data?: unknown; errors?: any[] };
    } catch (e) {
      return { errors: e as any[] };
    }
  };

  it('gives the same codes and reasons as HTTP, and keeps the socket', async () => {
    const cost = await first(
      'query($n: Int) { patients(first: $n) { edges { node { images(first: 100) { edges { node { id } } } } } } }',
      { n: 100 },
    );
    expect(cost.errors?.[0].extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', reason: 'COST', max: 30000, cost: 30301 });
    const tokens = await first(`{ ${Array.from({ length: 2500 }, () => '__typename').join(' ')} }`);
    expect(tokens.errors?.[0]).toMatchObject({
      message: 'The document has more than 2000 tokens',
      extensions: { code: 'QUERY_TOO_COMPLEX', reason: 'TOKENS', max: 2000 },
    });
    const aliases = await first(`{ ${Array.from({ length: 16 }, (_, i) => `a${i}: me { id }`).join(' ')} }`);
    expect(aliases.errors?.[0].extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', reason: 'ALIASES', max: 15 });
    expect(await first('{ me { id } }')).toEqual({ data: { me: { id: admin.id } } });
  });
});
