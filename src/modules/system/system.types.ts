import { Field, Float, ObjectType, registerEnumType } from 'type-graphql';

export enum DependencyState {
  UP = 'UP',
  DOWN = 'DOWN',
  /** Not configured: the embedded in-memory adapter is in use. */
  EMBEDDED = 'EMBEDDED',
}
registerEnumType(DependencyState, {
  name: 'DependencyState',
  description: 'Whether this process can reach a backing service',
  valuesConfig: {
    UP: { description: 'Answered a ping' },
    DOWN: { description: 'Configured but did not answer a ping' },
    EMBEDDED: {
      description: 'Not configured: an in-process stand-in is used (Redis only: in-memory pub/sub and limits)',
    },
  },
});

@ObjectType({ description: 'A backing service and how this process sees it' })
export class DependencyStatus {
  @Field(() => DependencyState, { description: 'Reachable, unreachable, or replaced by an in-process stand-in' })
  state!: DependencyState;

  @Field(() => String, { description: 'postgresql, pglite, redis or memory' })
  kind!: string;

  @Field(() => Float, {
    nullable: true,
    description: 'Round-trip of a ping (also of a failed one), in milliseconds; null when EMBEDDED',
  })
  latencyMs?: number | null;
}

@ObjectType({ description: 'The answering process and its backing services (systemStatus; admins only)' })
export class SystemStatus {
  @Field(() => String, { description: 'Dermagraph server version (package.json)' })
  version!: string;

  @Field(() => String, { description: 'Node.js version of this process, e.g. v20.11.1' })
  nodeVersion!: string;

  @Field(() => Float, { description: 'Seconds since this process started' })
  uptimeSeconds!: number;

  @Field(() => Date, { description: 'When this process started' })
  startedAt!: Date;

  @Field(() => DependencyStatus, { description: 'PostgreSQL (or embedded PGlite)' })
  database!: DependencyStatus;

  @Field(() => DependencyStatus, {
    description: 'Redis (pub/sub, rate limits, job queue), or EMBEDDED without REDIS_URL',
  })
  redis!: DependencyStatus;
}
