import { Field, Float, ObjectType, registerEnumType } from 'type-graphql';

export enum DependencyState {
  UP = 'UP',
  DOWN = 'DOWN',
  /** Not configured: the embedded in-memory adapter is in use. */
  EMBEDDED = 'EMBEDDED',
}
registerEnumType(DependencyState, { name: 'DependencyState' });

@ObjectType({ description: 'A backing service and how this process sees it' })
export class DependencyStatus {
  @Field(() => DependencyState)
  state!: DependencyState;

  @Field(() => String, { description: 'postgresql, pglite, redis or memory' })
  kind!: string;

  @Field(() => Float, { nullable: true, description: 'round-trip of a ping, in milliseconds' })
  latencyMs?: number | null;
}

@ObjectType()
export class SystemStatus {
  @Field(() => String)
  version!: string;

  @Field(() => String)
  nodeVersion!: string;

  @Field(() => Float)
  uptimeSeconds!: number;

  @Field(() => Date)
  startedAt!: Date;

  @Field(() => DependencyStatus)
  database!: DependencyStatus;

  @Field(() => DependencyStatus)
  redis!: DependencyStatus;
}
