import { GraphQLError, NoUnusedFragmentsRule, parse, specifiedRules, validate, type GraphQLSchema } from 'graphql';
import { buildAppSchema } from '../../src/schema/build';
import { loadConfig } from '../../src/infra/config';
import { fragmentCost, operationCost } from '../../src/infra/http/query-cost';
import { createArmor, QueryLimitError, queryLimitOf } from '../../src/infra/http/armor';
import { connections, fullPage } from '../support/connections';

/**
 * Issue [9], "Limits that agree with each other": the README's own `lesionMetrics(first: 100)` was refused
 * by the cost limit while `first` accepted 500. The largest page of every connection, with everything a
 * page can show, must fit under the default GRAPHQL_MAX_COST.
 */

/** graphql's rules for a lone fragment. */
const fragmentRules = specifiedRules.filter((r) => r !== NoUnusedFragmentsRule);

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildAppSchema();
});

const cost = (query: string, variables?: Record<string, unknown>, operationName?: string) =>
  operationCost(schema, parse(query), operationName, variables);

describe('the cost of an operation', () => {
  it('is one per field; a page of N multiplies what is selected inside it by N', () => {
    expect(cost('{ me { id email } }')).toBe(3);
    // The examples of docs/errors.md#query-cost.
    expect(cost('{ patients(first: 10) { edges { node { id } } pageInfo { hasNextPage } } }')).toBe(51);
    expect(cost('{ patients { edges { node { id } } pageInfo { hasNextPage } } }')).toBe(101);
    expect(cost('{ __typename me { __typename id } }')).toBe(2); // __typename is free
    // 1 (patients) + 10 x (edges 1 + node 1 + id 1 + pageInfo 1 + hasNextPage 1)
    expect(cost('{ patients(first: 10) { edges { node { id } } pageInfo { hasNextPage } } }')).toBe(51);
    // No `first`: the default page of 20.
    expect(cost('{ patients { edges { node { id } } } }')).toBe(61);
    expect(cost('{ patients(last: 5) { edges { node { id } } } }')).toBe(16);
  });

  it('reads a page size given in a variable, or the variable default', () => {
    const q = 'query($n: Int) { patients(first: $n) { edges { node { id } } } }';
    expect(cost(q, { n: 100 })).toBe(301);
    expect(cost(q, {})).toBe(61);
    expect(cost(q, { n: null })).toBe(61);
    expect(cost('query($n: Int = 50) { patients(first: $n) { edges { node { id } } } }')).toBe(151);
  });

  it('multiplies nested pages, counts fragments where spread, and prices the operation that runs', () => {
    const nested = '{ patients(first: 10) { edges { node { images(first: 10) { edges { node { id } } } } } } }';
    // 1 + 10 x (1 + 1 + (1 + 10 x 3))
    expect(cost(nested)).toBe(331);
    expect(cost('query { ...Q } fragment Q on Query { me { id } }')).toBe(2);
    expect(cost('query A { me { id } } query B { patients(first: 2) { edges { cursor } } }', {}, 'B')).toBe(5);
  });

  it("prices the README's lesionMetrics example under the default limit, at 100 and at its largest page", () => {
    const body = `exportId edges { node { id subject image modelVersions severity label confidence metrics { areaPercent circularity } } }
      pageInfo { hasNextPage endCursor }`;
    const limit = loadConfig({}).GRAPHQL_MAX_COST;
    // 1 + N x 16, as docs/errors.md#query-cost counts it.
    expect(cost(`{ lesionMetrics(first: 100) { ${body} } }`)).toBe(1601);
    expect(cost(`{ lesionMetrics(first: 500) { ${body} } }`)).toBe(8001);
    expect(8001).toBeLessThanOrEqual(limit);
  });

  it('lets the largest page of every connection, with everything a page can show, under the default limit', () => {
    const limit = loadConfig({}).GRAPHQL_MAX_COST;
    const found = connections(schema);
    expect(found.map((c) => `${c.type}.${c.field.name}`)).toEqual(
      expect.arrayContaining(['Query.patients', 'Query.lesionMetrics', 'Query.auditLog', 'Patient.images']),
    );
    const over = found
      .map(({ type, field, max }) => {
        const doc = parse(`fragment F on ${type} { ${field.name}(first: ${max}) { ${fullPage(schema, field)} } }`);
        expect(validate(schema, doc, fragmentRules)).toEqual([]); // the selection is one a client may send
        return { at: `${type}.${field.name}(first: ${max})`, cost: fragmentCost(schema, doc, 'F') };
      })
      .filter((c) => c.cost > limit);
    expect(over).toEqual([]);
  });
});

describe('the armor', () => {
  const armor = createArmor(
    loadConfig({ GRAPHQL_MAX_COST: '1000', GRAPHQL_MAX_TOKENS: '100', GRAPHQL_MAX_DEPTH: '4' }),
  );

  it('refuses an operation over the cost limit with QUERY_TOO_COMPLEX, reason COST, the limit and the cost', () => {
    const doc = parse('query($n: Int) { patients(first: $n) { edges { node { id displayName } } } }');
    expect(armor.checkCost(schema, doc, undefined, { n: 100 })).toBeUndefined(); // 401
    const refusal = armor.checkCost(schema, doc, undefined, { n: 300 })!;
    expect(refusal).toBeInstanceOf(QueryLimitError);
    expect(refusal.extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', reason: 'COST', max: 1000, cost: 1201 });
    expect(refusal.message).not.toMatch(/syntax error/i);
  });

  it('refuses past the token limit while parsing, as QUERY_TOO_COMPLEX with reason TOKENS', () => {
    const long = `{ ${Array.from({ length: 120 }, () => '__typename').join(' ')} }`;
    let thrown: unknown;
    try {
      armor.parse(long);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(QueryLimitError);
    expect((thrown as QueryLimitError).extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', reason: 'TOKENS', max: 100 });
    expect(() => armor.parse('{ me { ')).toThrow(/Syntax Error/); // a plain syntax error stays one
  });

  it("recognises graphql-js's own token-limit error (what Apollo raises from its parse call)", () => {
    let raw: unknown;
    try {
      parse('{ a b c d e }', { maxTokens: 3 });
    } catch (e) {
      raw = e;
    }
    expect(raw).toBeInstanceOf(GraphQLError);
    expect(queryLimitOf(raw)?.extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', reason: 'TOKENS', max: 3 });
    expect(queryLimitOf(new GraphQLError('Syntax Error: Expected Name, found <EOF>.'))).toBeUndefined();
  });

  it('reports depth and alias refusals as QUERY_TOO_COMPLEX with their reason, without "Syntax Error"', () => {
    const deep = validate(
      schema,
      parse('{ patients { edges { node { images { edges { node { id } } } } } } }'),
      armor.allValidationRules,
    );
    expect(deep).toHaveLength(1);
    expect(deep[0]).toBeInstanceOf(QueryLimitError);
    expect(deep[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', reason: 'DEPTH', max: 4 });
    expect(deep[0].message).toMatch(/^Query depth limit of 4 exceeded/);
    const aliases = Array.from({ length: 20 }, (_, i) => `a${i}: me { id }`).join(' ');
    const many = validate(schema, parse(`{ ${aliases} }`), armor.allValidationRules);
    expect(many.map((e) => e.extensions)).toEqual([{ code: 'QUERY_TOO_COMPLEX', reason: 'ALIASES', max: 15 }]);
  });
});
