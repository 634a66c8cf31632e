import { Field, Int, ObjectType, type ClassType } from 'type-graphql';

/** Relay's PageInfo; one type for every connection in the schema. */
@ObjectType({ description: 'Where a page starts and ends, and whether more items lie either side of it.' })
export class PageInfo {
  @Field(() => Boolean, {
    description:
      'True when older items follow this page; read them with `after: endCursor`. Paging backwards: true after a `before` cursor.',
  })
  hasNextPage!: boolean;

  @Field(() => String, {
    nullable: true,
    description: 'Pass as `after` to read the next page. Null when the page is empty.',
  })
  endCursor?: string | null;

  @Field(() => Boolean, {
    description:
      'True when newer items come before this page. Paging backwards (`last`, `before`): whether more remain, read them with `before: startCursor`; paging forwards: true after a cursor.',
  })
  hasPreviousPage!: boolean;

  @Field(() => String, {
    nullable: true,
    description:
      "The first edge's cursor: pass it as `before` (where the connection takes it) to read the page before. Null when the page is empty.",
  })
  startCursor?: string | null;
}

/**
 * A Relay connection of `Node`, newest first: `<name>Edge { cursor node }` and an abstract
 * `{ edges pageInfo }` that the concrete connection extends, so each keeps its own class:
 *
 *     @ObjectType() export class PatientConnection extends Connection(PatientType, 'Patient') {}
 *
 * The values are the `Page<T>` a service builds (src/infra/pagination.ts); `totalCount` calls
 * its count thunk, so the count statement runs only when a client selects it.
 */
export function Connection<TNode extends object>(
  Node: ClassType<TNode>,
  name: string,
  /** What one node is, for the edge's description (default: the name in words, e.g. "patient"). */
  noun = name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase(),
  /** The noun's plural, for the count's description (default: entry -> entries, image -> images). */
  plural = noun.endsWith('s') ? noun : noun.replace(/([^aeiou])y$/, '$1ie') + 's',
) {
  @ObjectType(`${name}Edge`, { description: `One ${noun} and its cursor.` })
  class Edge {
    @Field(() => String, { description: 'Opaque; valid only for the query that returned it.' })
    cursor!: string;

    @Field(() => Node, { description: `The ${noun}.` })
    node!: TNode;
  }

  // Not referenced by any field, so type-graphql does not emit it; the subclass is the GraphQL type.
  @ObjectType(`${name}ConnectionBase`)
  abstract class ConnectionType {
    @Field(() => [Edge], { description: `This page, newest first: one edge per ${noun}.` })
    edges!: Edge[];

    @Field(() => PageInfo, { description: 'Whether another page follows, and the cursor to ask for it.' })
    pageInfo!: PageInfo;

    /** The page's count thunk (Page.totalCount) replaces this method on the value; without one, it fails loudly. */
    @Field(() => Int, {
      description: `The number of ${plural} the query matches over all pages (its filters applied, not the cursor). Counted only when selected.`,
    })
    totalCount?(): Promise<number> {
      return Promise.reject(new Error(`${name}Connection has no count`));
    }
  }
  return ConnectionType;
}
