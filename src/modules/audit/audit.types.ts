import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Connection } from '../../schema/connection';
import { AuditAction } from './audit-action';
import { Node } from '../../schema/node';

registerEnumType(AuditAction, {
  name: 'AuditAction',
  description: 'What an audit log entry records',
  valuesConfig: {
    REGISTERED: { description: 'An account was created by sign-up' },
    REGISTRATION_EMAIL_TAKEN: {
      description: 'Sign-up with an address that has an account: answered as for a new one, its owner mailed',
    },
    EMAIL_VERIFIED: { description: 'The email address was confirmed with the link' },
    SIGN_IN_SUCCEEDED: { description: 'A sign-in completed (password, and the second factor when on)' },
    SIGN_IN_FAILED: {
      description: 'A sign-in was refused: wrong email or password, or details.reason (e.g. USER_DISABLED)',
    },
    TWO_FACTOR_FAILED: { description: 'A wrong TOTP or recovery code at the second sign-in step' },
    TWO_FACTOR_ENABLED: { description: 'Two-factor sign-in was switched on' },
    TWO_FACTOR_DISABLED: { description: 'Two-factor sign-in was switched off (by the user, or reset by an admin)' },
    RECOVERY_CODE_USED: { description: 'A recovery code replaced the TOTP code at sign-in' },
    RECOVERY_CODES_REGENERATED: { description: 'New recovery codes replaced the old ones' },
    PASSWORD_RESET_REQUESTED: { description: 'A reset link was mailed' },
    PASSWORD_RESET: { description: 'The password was set with a reset link' },
    PASSWORD_CHANGED: { description: 'The password was changed by its owner' },
    ROLE_CHANGED: { description: "An admin changed the account's role (details: from, to)" },
    USER_DISABLED: { description: 'An admin disabled the account' },
    USER_ENABLED: { description: 'An admin enabled the account again' },
    LOGOUT: { description: 'One session ended' },
    LOGOUT_ALL: { description: 'Every session of the account ended' },
    REFRESH_TOKEN_REUSED: { description: 'A refresh token was used twice: its session family was ended' },
    ADMIN_CREATED: { description: 'An admin account was created from the command line' },
    MODEL_UPLOADED: { description: 'An admin installed a model package' },
    MODEL_ACTIVATED: { description: 'An admin made a model version the active one' },
    MODEL_UNLOADED: { description: 'An admin took a model version out of service' },
    MODEL_DEVICE_CHANGED: { description: 'An admin placed a model version on another device' },
    MODEL_CACHE_REGENERATED: { description: "An admin re-created every loaded model's session" },
    MODEL_ROLLED_BACK: { description: 'An admin activated the version that was active before' },
    ENSEMBLE_CREATED: { description: 'An admin created a named classification ensemble (details: name, members)' },
    ENSEMBLE_UPDATED: {
      description: 'An admin changed the members of a named classification ensemble (details: before, after)',
    },
    ENSEMBLE_DELETED: { description: 'An admin deleted a named classification ensemble (details: its members)' },
    REPORT_GENERATED: {
      description: 'generateReport: details name the report, its kind, image count and the patients exported',
    },
    REPORT_DELETED: { description: 'deleteReport: a report and its file were removed' },
    RESEARCH_EXPORTED: { description: 'A researcher or admin got a link to the de-identified lesion-metrics CSV' },
    RESEARCH_EXPORT_DOWNLOADED: {
      description: 'A de-identified CSV link was fetched, or refused because its owner may no longer export',
    },
    USER_INVITED: { description: 'An admin invited an address (details.after: email, name, role, plan)' },
    PLAN_CHANGED: { description: "An admin changed the account's plan (details: before, after)" },
    NAME_CHANGED: { description: "An admin changed the account's name (details: before, after)" },
    PASSWORD_RESET_SENT: {
      description: 'An admin had a reset link (or, for a pending invitation, a new invitation) mailed to the account',
    },
    USER_DELETED: {
      description:
        'An admin deleted the account (details.outcome DELETED or ANONYMISED; its patients transferred or archived)',
    },
    PATIENT_READ: { description: 'A patient record was read by id (details.patientId; one row per request)' },
    PATIENT_SHARED: { description: 'A patient was shared with a clinician (details: patientId, with)' },
    PATIENT_UNSHARED: { description: 'A share was taken back (details: patientId, with)' },
    JOB_RETRIED: { description: 'An admin queued a FAILED job again (retryJob; details: jobId, kind, error)' },
  },
});

@InputType({ description: 'Narrows auditLog; the conditions given must all hold' })
export class AuditLogFilter {
  @Field(() => ID, { nullable: true, description: 'Only entries about this account (User.id)' })
  userId?: string | null;

  @Field(() => AuditAction, { nullable: true, description: 'Only entries of this action' })
  action?: AuditAction | null;

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

  @Field(() => AuditAction, { description: 'What happened' })
  action!: AuditAction;

  @Field(() => Boolean, { description: 'False for refused or failed attempts (wrong password, wrong code, ...)' })
  success!: boolean;

  @Field(() => String, { nullable: true, description: 'Client IP of the request; null outside a request (CLI)' })
  ip?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'User-Agent header of the request, first 512 characters; null when absent',
  })
  userAgent?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'The request that wrote it (the x-request-id answered to the client, also on its log lines in serverLogs); null outside a request (CLI)',
  })
  requestId?: string | null;

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
