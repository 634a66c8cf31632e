import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Connection } from '../../schema/connection';
import { Node } from '../../schema/node';

@InputType({ description: 'Narrows auditLog; the conditions given must all hold' })
export class AuditLogFilter {
  @Field(() => ID, { nullable: true, description: 'Only entries about this account (User.id)' })
  userId?: string | null;

  @Field(() => String, { nullable: true, description: 'e.g. SIGN_IN_FAILED, ROLE_CHANGED, REFRESH_TOKEN_REUSED' })
  action?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'true: only what succeeded; false: only refusals and failures' })
  success?: boolean | null;

  @Field(() => Date, { nullable: true, description: 'Only entries written at or after this instant' })
  since?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Only entries written before this instant (exclusive)' })
  until?: Date | null;
}

@ObjectType('AuditLogEntry', {
  description: 'One security event: sign-ins, account and 2FA changes, admin actions, model changes (admins only)',
  implements: Node,
})
export class AuditLogEntryType {
  @Field(() => ID, { description: 'Globally unique id (node(id) finds the entry again, for admins)' })
  id!: string;

  @Field(() => ID, {
    nullable: true,
    description: 'The account concerned; null when there is none (a sign-in to an unknown address, a model change)',
  })
  userId?: string | null;

  @Field(() => ID, { nullable: true, description: 'The admin who acted, when not the user' })
  actorId?: string | null;

  @Field(() => String, { description: 'What happened, e.g. SIGN_IN_FAILED, ROLE_CHANGED, MODEL_ACTIVATED' })
  action!: string;

  @Field(() => Boolean, { description: 'False for refused or failed attempts (wrong password, wrong code, ...)' })
  success!: boolean;

  @Field(() => String, { nullable: true, description: 'Client IP of the request; null outside a request (CLI)' })
  ip?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'User-Agent header of the request, first 512 characters; null when absent',
  })
  userAgent?: string | null;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: 'Action-specific facts, e.g. { reason } of a failure or { from, to } of a role change',
  })
  details?: Record<string, unknown> | null;

  @Field(() => Date, { description: 'When the event was recorded' })
  createdAt!: Date;
}

@ObjectType({ description: 'A page of audit log entries, newest first' })
export class AuditLogConnection extends Connection(AuditLogEntryType, 'AuditLog', 'audit log entry') {}
