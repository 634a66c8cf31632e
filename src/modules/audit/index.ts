/** The security audit log: the writer every module records with, its admin query and `@Audited`. */
export { AuditAction } from './audit-action';
export { createAuditWriter, type AuditEntry, type AuditWriter, type RequestMeta } from './audit-writer';
export { Audited, NOTHING_CHANGED, requestMeta, type AuditedOptions } from './audited';
export { listAuditLog, type AuditLogFilterInput } from './audit-log.query';
export { AuditLogResolver } from './audit.resolver';
export { AuditLogEntryType } from './audit.types';
export { auditNodes } from './audit-nodes';
