import 'reflect-metadata';
import { buildSchema, type NonEmptyArray } from 'type-graphql';
import type { GraphQLSchema } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';
import { resolvers } from '../resolvers';
import { authChecker } from './access';
import { createPubSub, type PubSub } from '../infra/messaging/pubsub';

export interface SchemaOptions {
  pubSub?: PubSub;
  /** Extra resolver classes (tests use this to probe transport features). */
  extraResolvers?: Function[];
}

/** Builds the executable schema from the resolver classes. */
export function buildAppSchema(opts: SchemaOptions = {}): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [...resolvers, ...(opts.extraResolvers ?? [])] as NonEmptyArray<Function>,
    authChecker,
    authMode: 'error',
    pubSub: opts.pubSub ?? createPubSub(),
    scalarsMap: [{ type: Date, scalar: DateTimeResolver }],
    // Inputs are checked by their services (with field names and stable codes); no class-validator
    // decorators exist, and running it on every argument cost ~0.5 ms of CPU per request.
    validate: false,
    emitSchemaFile: false,
  });
}
