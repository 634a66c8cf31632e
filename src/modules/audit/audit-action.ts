/** What an audit row records; stored as text in `audit_log.action` (filterable in the auditLog query). */
export const AuditAction = {
  REGISTERED: 'REGISTERED',
  /** register with an address that has an account: answered as for a new one, the owner mailed. */
  REGISTRATION_EMAIL_TAKEN: 'REGISTRATION_EMAIL_TAKEN',
  EMAIL_VERIFIED: 'EMAIL_VERIFIED',
  SIGN_IN_SUCCEEDED: 'SIGN_IN_SUCCEEDED',
  SIGN_IN_FAILED: 'SIGN_IN_FAILED',
  TWO_FACTOR_FAILED: 'TWO_FACTOR_FAILED',
  TWO_FACTOR_ENABLED: 'TWO_FACTOR_ENABLED',
  TWO_FACTOR_DISABLED: 'TWO_FACTOR_DISABLED',
  RECOVERY_CODE_USED: 'RECOVERY_CODE_USED',
  RECOVERY_CODES_REGENERATED: 'RECOVERY_CODES_REGENERATED',
  PASSWORD_RESET_REQUESTED: 'PASSWORD_RESET_REQUESTED',
  PASSWORD_RESET: 'PASSWORD_RESET',
  PASSWORD_CHANGED: 'PASSWORD_CHANGED',
  ROLE_CHANGED: 'ROLE_CHANGED',
  USER_DISABLED: 'USER_DISABLED',
  USER_ENABLED: 'USER_ENABLED',
  LOGOUT: 'LOGOUT',
  LOGOUT_ALL: 'LOGOUT_ALL',
  REFRESH_TOKEN_REUSED: 'REFRESH_TOKEN_REUSED',
  ADMIN_CREATED: 'ADMIN_CREATED',
  MODEL_UPLOADED: 'MODEL_UPLOADED',
  MODEL_ACTIVATED: 'MODEL_ACTIVATED',
  MODEL_UNLOADED: 'MODEL_UNLOADED',
  MODEL_DEVICE_CHANGED: 'MODEL_DEVICE_CHANGED',
  MODEL_CACHE_REGENERATED: 'MODEL_CACHE_REGENERATED',
  MODEL_ROLLED_BACK: 'MODEL_ROLLED_BACK',
  /** Named classification ensembles (details: name, members; on a change, before and after). */
  ENSEMBLE_CREATED: 'ENSEMBLE_CREATED',
  ENSEMBLE_UPDATED: 'ENSEMBLE_UPDATED',
  ENSEMBLE_DELETED: 'ENSEMBLE_DELETED',
  /** generateReport: who exported which patients' data (details: reportId, kind, imageCount, patientIds). */
  REPORT_GENERATED: 'REPORT_GENERATED',
  REPORT_DELETED: 'REPORT_DELETED',
  /** exportLesionMetricsCsv: a researcher (or admin) got a signed link to the de-identified CSV. */
  RESEARCH_EXPORTED: 'RESEARCH_EXPORTED',
  /** That link was fetched (or refused: its owner was demoted or disabled since). */
  RESEARCH_EXPORT_DOWNLOADED: 'RESEARCH_EXPORT_DOWNLOADED',
  /** User administration ([13]): details.before / details.after hold what changed. */
  USER_INVITED: 'USER_INVITED',
  PLAN_CHANGED: 'PLAN_CHANGED',
  NAME_CHANGED: 'NAME_CHANGED',
  /** An admin had a reset (or, for a pending invitation, a new invitation) link mailed to the account. */
  PASSWORD_RESET_SENT: 'PASSWORD_RESET_SENT',
  /** An admin deleted the account (details: outcome DELETED or ANONYMISED, patients transferred or archived). */
  USER_DELETED: 'USER_DELETED',
  /** patient(id) or node(id) read a patient record (at most one row per patient per request). */
  PATIENT_READ: 'PATIENT_READ',
  PATIENT_SHARED: 'PATIENT_SHARED',
  PATIENT_UNSHARED: 'PATIENT_UNSHARED',
  /** retryJob: an admin queued a FAILED job again (details: jobId, kind, error). */
  JOB_RETRIED: 'JOB_RETRIED',
} as const;
export type AuditAction = (typeof AuditAction)[keyof typeof AuditAction];
