import { Arg, Authorized, Ctx, Field, ID, InterfaceType, Query, Resolver } from 'type-graphql';
import { isUuid } from '../infra/database/sql';
import { tablesHolding } from '../infra/database/tables-holding';
import type { AppContext } from './context';
import { requestLoader } from './loaders';

/** The GraphQL type of each object `node(id)` answered with (the objects are entities or views, not class instances). */
const typeOfNode = new WeakMap<object, string>();

/**
 * Relay's Node: an object a client caches under its id. Object types implement it with
 * `@ObjectType({ implements: Node })`; the `node(id)` query finds any of them again.
 */
@InterfaceType('Node', {
  description:
    'An object with a globally unique id (no two objects of any type share one): a client caches it under its id and fetches it again with `node(id)`',
  resolveType: (value: object) => typeOfNode.get(value),
})
export abstract class Node {
  @Field(() => ID, { description: 'Globally unique: pass it to `node(id)` to fetch the object again' })
  id!: string;
}

/**
 * How `node(id)` finds the objects of one type. A module registers its sources through its
 * index.ts; src/resolvers assembles them (this layer names no feature).
 */
export interface NodeSource {
  /** The GraphQL object type (it implements Node). */
  type: string;
  /**
   * The table whose uuid primary key is the object's id. Entity ids are uuids, unique across
   * tables, so `node` learns the type of a uuid from the one table that holds it.
   */
  table?: string;
  /** For ids that are not a table's uuids (e.g. `model:<name>`): whether `id` is one of this type's. */
  owns?: (id: string) => boolean;
  /**
   * The object when the caller (signed in) may read it by the type's own rules, else null: never
   * an error, never a hint that the object exists.
   */
  load(ctx: AppContext, id: string): Promise<object | null>;
}

/** The table holding each uuid of a request's `node` fields, in one statement for all of them. */
const tableOfId = (ctx: AppContext, tables: readonly string[]) =>
  requestLoader<string, string | null>(ctx, 'node:tableOfId', async (ids) => {
    const m = await tablesHolding(ctx.em, tables, ids);
    return ids.map((id) => m.get(id) ?? null);
  });

/** The source of the type `id` belongs to, or null. */
async function sourceOf(ctx: AppContext, sources: readonly NodeSource[], id: string): Promise<NodeSource | null> {
  const owner = sources.find((s) => s.owns?.(id));
  if (owner) return owner;
  if (!isUuid(id)) return null;
  const tables = sources.flatMap((s) => (s.table ? [s.table] : []));
  const table = await tableOfId(ctx, tables).load(id.toLowerCase());
  return sources.find((s) => s.table && s.table === table) ?? null;
}

/**
 * The resolver of `node(id)` over `sources` (call it once: the class it returns is registered with
 * the schema's resolvers). Two statements for an entity: which table holds the uuid, then the
 * type's own access-checked read.
 */
export function createNodeResolver(sources: readonly NodeSource[]): Function {
  const types = new Set(sources.map((s) => s.type));
  if (types.size !== sources.length) throw new Error('node sources: one source per type');

  @Resolver()
  class NodeResolver {
    @Authorized()
    @Query(() => Node, {
      nullable: true,
      description:
        'Any object with an id (Relay): null when there is none or the caller may not read it, under the same rules as the query of its type',
    })
    async node(
      @Arg('id', () => ID, { description: 'The `id` of any object that implements Node' }) id: string,
      @Ctx() ctx: AppContext,
    ): Promise<object | null> {
      const source = await sourceOf(ctx, sources, id);
      const found = source ? await source.load(ctx, id) : null;
      if (found && source) typeOfNode.set(found, source.type);
      return found;
    }
  }
  return NodeResolver;
}
