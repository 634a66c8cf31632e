import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Connection } from '../../schema/connection';

@InputType()
export class AuditLogFilter {
  @Field(() => ID, { nullable: true })
  userId?: string | null;

  @Field(() => String, { nullable: true, description: 'e.g. SIGN_IN_FAILED, ROLE_CHANGED, REFRESH_TOKEN_REUSED' })
  action?: string | null;

  @Field(() => Boolean, { nullable: true })
  success?: boolean | null;

  @Field(() => Date, { nullable: true })
  since?: Date | null;

  @Field(() => Date, { nullable: true })
  until?: Date | null;
}

@ObjectType('AuditLogEntry')
export class AuditLogEntryType {
  @Field(() => ID)
  id!: string;

  @Field(() => ID, { nullable: true })
  userId?: string | null;

  @Field(() => ID, { nullable: true, description: 'The admin who acted, when not the user' })
  actorId?: string | null;

  @Field(() => String)
  action!: string;

  @Field(() => Boolean)
  success!: boolean;

  @Field(() => String, { nullable: true })
  ip?: string | null;

  @Field(() => String, { nullable: true })
  userAgent?: string | null;

  @Field(() => GraphQLJSONObject, { nullable: true })
  details?: Record<string, unknown> | null;

  @Field(() => Date)
  createdAt!: Date;
}

@ObjectType()
export class AuditLogConnection extends Connection(AuditLogEntryType, 'AuditLog', 'audit log entry') {}
