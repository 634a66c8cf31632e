import { AuditLog, Role } from '../../entities';
import type { NodeSource } from '../../schema/node';

/** `node(id)` for audit log entries: admins only, as `auditLog`. */
export const auditNodes: NodeSource[] = [
  {
    type: 'AuditLogEntry',
    table: 'audit_log',
    load: (ctx, id) =>
      ctx.user?.role === Role.ADMIN ? ctx.em.findOne(AuditLog, { id: id.toLowerCase() }) : Promise.resolve(null),
  },
];
