import {
  getNamedType,
  isAbstractType,
  isInterfaceType,
  isLeafType,
  isNonNullType,
  isObjectType,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';
import { MAX_PAGE } from '../../src/infra/pagination';

/**
 * The connections of the schema and full pages of them, for the tests that check that the largest page
 * of every connection fits the cost limit (test/foundation/query-cost.test.ts, query-limits.test.ts).
 */

/** Connections whose largest page is not MAX_PAGE (their services call pageSize(first, 500)); query-limits.test.ts checks it live. */
export const LARGEST_PAGE: Readonly<Record<string, number>> = { 'Query.lesionMetrics': 500, 'Query.auditLog': 500 };

export type Field = GraphQLField<unknown, unknown>;
export const paged = (f: Field) => f.args.some((a) => a.name === 'first' || a.name === 'last');
const callable = (f: Field) => !f.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined);

/**
 * Everything a client can read of a type without opening another page: its scalar fields and, `nested`
 * levels down, those of the objects it links to (an abstract type: each possible type's, by fragment).
 */
export function everything(schema: GraphQLSchema, type: GraphQLNamedType, nested: number): string {
  if (isAbstractType(type))
    return `__typename ${schema
      .getPossibleTypes(type)
      .map((t) => `... on ${t.name} { ${everything(schema, t, nested)} }`)
      .join(' ')}`;
  if (!isObjectType(type) && !isInterfaceType(type)) return '';
  const parts: string[] = [];
  for (const f of Object.values(type.getFields())) {
    if (!callable(f) || paged(f)) continue;
    const inner = getNamedType(f.type);
    if (isLeafType(inner)) parts.push(f.name);
    else if (nested > 0) {
      const sub = everything(schema, inner, nested - 1);
      if (sub) parts.push(`${f.name} { ${sub} }`);
    }
  }
  return parts.join(' ');
}

/** A full page: every field of its nodes and of the objects they link to, cursors, pageInfo, and the connection's own scalars (totalCount...). */
export function fullPage(schema: GraphQLSchema, field: Field): string {
  const connection = getNamedType(field.type);
  if (!isObjectType(connection)) throw new Error(`${field.name} is not a connection`);
  const fields = connection.getFields();
  const edge = getNamedType(fields.edges.type);
  if (!isObjectType(edge)) throw new Error(`${field.name} has no edges`);
  const node = getNamedType(edge.getFields().node.type);
  const own = Object.values(fields)
    .filter((f) => callable(f) && isLeafType(getNamedType(f.type)))
    .map((f) => f.name);
  const pageInfo = everything(schema, getNamedType(fields.pageInfo.type), 0);
  return `${own.join(' ')} pageInfo { ${pageInfo} } edges { cursor node { ${everything(schema, node, 1)} } }`;
}

/** Every paged field of the schema (`Type.field`), with its largest page. */
export function connections(schema: GraphQLSchema): { type: string; field: Field; max: number }[] {
  const out: { type: string; field: Field; max: number }[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!(isObjectType(type) || isInterfaceType(type)) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields()))
      if (paged(field))
        out.push({ type: type.name, field, max: LARGEST_PAGE[`${type.name}.${field.name}`] ?? MAX_PAGE });
  }
  return out;
}
