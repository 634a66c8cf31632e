import { Field, ObjectType, type ClassType } from 'type-graphql';

/** Relay's PageInfo; one type for every connection in the schema. */
@ObjectType({ description: 'Where a page ends, and whether another follows it.' })
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true, description: 'Pass as `after` to read the next page.' })
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

    @Field(() => Node)
    node!: TNode;
  }

  // Not referenced by any field, so type-graphql does not emit it; the subclass is the GraphQL type.
  @ObjectType(`${name}ConnectionBase`)
  abstract class ConnectionType {
    @Field(() => [Edge])
    edges!: Edge[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;
  }
  return ConnectionType;
}
