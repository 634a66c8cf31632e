import { Field, ObjectType, type ClassType } from 'type-graphql';

/** Relay's PageInfo; one type for every connection in the schema. */
@ObjectType({ description: 'Where a page ends, and whether another follows it.' })
export class PageInfo {
  @Field(() => Boolean, { description: 'True when more items follow this page; read them with `after: endCursor`.' })
  hasNextPage!: boolean;

  @Field(() => String, {
    nullable: true,
    description: 'Pass as `after` to read the next page. Null when the page is empty.',
  })
  endCursor?: string | null;
}

/**
 * A Relay connection of `Node`, newest first: `<name>Edge { cursor node }` and an abstract
 * `{ edges pageInfo }` that the concrete connection extends, so each keeps its own class:
 *
 *     @ObjectType() export class PatientConnection extends Connection(PatientType, 'Patient') {}
 *
 * The values are the `Page<T>` a service builds (src/infra/pagination.ts).
 */
export function Connection<TNode extends object>(
  Node: ClassType<TNode>,
  name: string,
  /** What one node is, for the edge's description (default: the name in words, e.g. "patient"). */
  noun = name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase(),
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
  }
  return ConnectionType;
}
