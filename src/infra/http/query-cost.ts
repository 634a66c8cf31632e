import {
  getNamedType,
  getOperationAST,
  isCompositeType,
  isInterfaceType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { DEFAULT_PAGE } from '../pagination';

/**
 * The cost of one GraphQL operation, the number `GRAPHQL_MAX_COST` bounds (docs/errors.md#query-cost):
 *
 * - every field selected costs 1 (`__typename` and introspection cost nothing);
 * - a paged field (one that takes `first` or `last`) multiplies everything selected inside it by its page
 *   size: the `first` (or `last`) it is given, as a literal or through a variable, else the default page of 20.
 *
 * So a page of N costs 1 + N x (the fields selected inside the connection), and a connection inside
 * another connection's nodes multiplies again: `patients(first: 100) { edges { node { images(first: 100) ...`
 * costs ten thousand times an image's fields. A list that is not paged counts once. The operation run is
 * the one `operationName` names (or the only one). Fragments count where they are spread.
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName?: string | null,
  variables?: Readonly<Record<string, unknown>> | null,
): number {
  const operation = getOperationAST(document, operationName);
  const root = operation && schema.getRootType(operation.operation);
  if (!operation || !root) return 0;
  return new Walk(schema, fragmentsOf(document), operation, variables ?? {}).selectionSet(
    operation.selectionSet,
    root,
    0,
  );
}

/** The cost of one fragment's selection on its type, counted as in an operation without variables (tests size pages with it). */
export function fragmentCost(schema: GraphQLSchema, document: DocumentNode, fragmentName: string): number {
  const fragments = fragmentsOf(document);
  const fragment = fragments.get(fragmentName);
  const type = fragment && schema.getType(fragment.typeCondition.name.value);
  if (!fragment || !type || !isCompositeType(type)) throw new Error(`no fragment ${fragmentName} on a known type`);
  return new Walk(schema, fragments, undefined, {}).selectionSet(fragment.selectionSet, type, 0);
}

function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  return fragments;
}

/** Deeper than any document the depth limit lets through; a guard, never the limit clients meet. */
const MAX_WALK_DEPTH = 100;

class Walk {
  constructor(
    private readonly schema: GraphQLSchema,
    private readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>,
    private readonly operation: OperationDefinitionNode | undefined,
    private readonly variables: Readonly<Record<string, unknown>>,
  ) {}

  selectionSet(set: SelectionSetNode, parent: GraphQLCompositeType, depth: number): number {
    if (depth > MAX_WALK_DEPTH) return Infinity;
    let cost = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (name.startsWith('__')) continue; // __typename, __schema, __type
        const field = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
        if (!field) continue; // validation has already refused an unknown field
        const inner = getNamedType(field.type);
        const sub =
          selection.selectionSet && isCompositeType(inner)
            ? this.selectionSet(selection.selectionSet, inner, depth + 1)
            : 0;
        cost += 1 + this.pageSize(field, selection.arguments ?? []) * sub;
      } else {
        const fragment = selection.kind === Kind.FRAGMENT_SPREAD ? this.fragments.get(selection.name.value) : selection;
        if (!fragment) continue;
        const condition = fragment.typeCondition ? this.schema.getType(fragment.typeCondition.name.value) : parent;
        if (condition && isCompositeType(condition))
          cost += this.selectionSet(fragment.selectionSet, condition, depth + 1);
      }
    }
    return cost;
  }

  /** 1 for a field that is not paged; else its `first` / `last` (literal, variable, variable default) or the default page. */
  private pageSize(
    field: GraphQLField<unknown, unknown>,
    args: readonly { name: { value: string }; value: ValueNode }[],
  ): number {
    if (!field.args.some((a) => a.name === 'first' || a.name === 'last')) return 1;
    for (const name of ['first', 'last']) {
      const arg = args.find((a) => a.name.value === name);
      const n = arg && this.intValue(arg.value);
      if (n !== undefined) return Math.max(0, n);
    }
    return DEFAULT_PAGE;
  }

  private intValue(value: ValueNode): number | undefined {
    if (value.kind === Kind.INT) return Number(value.value);
    if (value.kind !== Kind.VARIABLE) return undefined;
    const name = value.name.value;
    const given = this.variables[name];
    if (given !== undefined) return typeof given === 'number' && Number.isInteger(given) ? given : undefined;
    const declared = this.operation?.variableDefinitions?.find((v) => v.variable.name.value === name);
    return declared?.defaultValue ? this.intValue(declared.defaultValue) : undefined;
  }
}
