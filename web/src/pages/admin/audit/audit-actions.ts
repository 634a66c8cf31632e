// The AuditAction values (schema.graphql) with words for the filter and the log; codegen gives the type, not the list.
import type { AuditAction } from '../../../gql/graphql';

// Partial on purpose: an action added to the schema later shows as its code rather than breaking the build;
// test/web/audit-actions.test.ts fails until every action the server writes has words here.
const WORDS: Partial<Record<AuditAction, string>> = {
  ADMIN_CREATED: 'Admin created (command line)',
  EMAIL_VERIFIED: 'Email verified',
  ENSEMBLE_CREATED: 'Classification ensemble created',
  ENSEMBLE_DELETED: 'Classification ensemble deleted',
  ENSEMBLE_UPDATED: 'Classification ensemble changed',
  JOB_RETRIED: 'Job retried',
  LOGOUT: 'Signed out',
  LOGOUT_ALL: 'Signed out everywhere',
  MODEL_ACTIVATED: 'Model activated',
  MODEL_CACHE_REGENERATED: 'Model cache regenerated',
  MODEL_DEVICE_CHANGED: 'Model device changed',
  MODEL_ROLLED_BACK: 'Model rolled back',
  MODEL_UNLOADED: 'Model unloaded',
  MODEL_UPLOADED: 'Model uploaded',
  NAME_CHANGED: 'Name changed',
  PASSWORD_CHANGED: 'Password changed',
  PASSWORD_RESET: 'Password reset',
  PASSWORD_RESET_REQUESTED: 'Password reset requested',
  PASSWORD_RESET_SENT: 'Password reset link sent by an admin',
  PATIENT_READ: 'Patient record read',
  PATIENT_SHARED: 'Patient shared',
  PATIENT_UNSHARED: 'Patient unshared',
  PLAN_CHANGED: 'Plan changed',
  RECOVERY_CODES_REGENERATED: 'Recovery codes regenerated',
  RECOVERY_CODE_USED: 'Recovery code used',
  REFRESH_TOKEN_REUSED: 'Refresh token reused',
  REGISTERED: 'Registered',
  REGISTRATION_EMAIL_TAKEN: 'Registration with a taken email',
  REPORT_DELETED: 'Report deleted',
  REPORT_GENERATED: 'Report generated',
  RESEARCH_EXPORTED: 'Research CSV link made',
  RESEARCH_EXPORT_DOWNLOADED: 'Research CSV downloaded',
  ROLE_CHANGED: 'Role changed',
  SIGN_IN_FAILED: 'Sign-in failed',
  SIGN_IN_SUCCEEDED: 'Sign-in succeeded',
  TWO_FACTOR_DISABLED: 'Two-factor switched off',
  TWO_FACTOR_ENABLED: 'Two-factor switched on',
  TWO_FACTOR_FAILED: 'Two-factor code wrong',
  USER_DELETED: 'Account deleted',
  USER_DISABLED: 'Account disabled',
  USER_ENABLED: 'Account enabled',
  USER_INVITED: 'Account invited',
};

export const AUDIT_ACTIONS = Object.entries(WORDS) as ReadonlyArray<[AuditAction, string]>;

export const actionWords = (a: AuditAction): string => WORDS[a] ?? a;

/** A datetime-local value (the browser's local time) as an ISO instant, or undefined when empty or invalid. */
export function localToIso(value: string): string | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}
