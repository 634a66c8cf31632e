import type { EntityManager } from '@mikro-orm/postgresql';
import { PatientShare } from '../../entities';
import { isUuid } from '../../infra/database/sql';
import type { AppContext } from '../../schema/context';
import { AuditAction, createAuditWriter, NOTHING_CHANGED, requestMeta, type AuditedOptions } from '../audit';

/** The patients each request has recorded a read of: one audit row per patient per request at most. */
const readThisRequest = new WeakMap<AppContext, Set<string>>();

/**
 * Records that the caller read a patient record by id (patient(id), node(id)): PATIENT_READ, about
 * and by the caller, details.patientId. A query naming one patient many times (aliases, node and
 * patient together) writes one row; the row is one plain insert with the request's EntityManager,
 * outside any transaction, and a failed write is logged, never the read's failure.
 */
export async function auditPatientRead(ctx: AppContext, patientId: string): Promise<void> {
  if (!ctx.user) return;
  let seen = readThisRequest.get(ctx);
  if (!seen) readThisRequest.set(ctx, (seen = new Set()));
  if (seen.has(patientId)) return;
  seen.add(patientId);
  await createAuditWriter(ctx.logger)(ctx.em, AuditAction.PATIENT_READ, {
    userId: ctx.user.id,
    actorId: ctx.user.id,
    success: true,
    meta: requestMeta(ctx),
    details: { patientId },
  });
}

type ShareArgs = { patientId: string; userId: string };

/** Whether `userId` holds a share of `patientId` now (false for ids that are not uuids). */
async function isShared(em: EntityManager, { patientId, userId }: ShareArgs): Promise<boolean> {
  if (!isUuid(patientId) || !isUuid(userId)) return false;
  return (await em.count(PatientShare, { patient: patientId, user: userId })) > 0;
}

/**
 * `@Audited` options of sharePatient and unsharePatient: the row is about the sharee, by the
 * caller, with the patient, and before/after of the share; a call that changes nothing writes no
 * row, a refused one writes its error code.
 */
export const shareAudit: AuditedOptions<ShareArgs, unknown, { shared: boolean }> = {
  userId: ({ userId }) => (isUuid(userId) ? userId : null),
  details: ({ patientId }) => ({ patientId: isUuid(patientId) ? patientId : null }),
  before: async (args, ctx) => ({ shared: await isShared(ctx.em, args) }),
};

/** outcome of a share (`to` true) or an unshare (`to` false). */
export const shareOutcome = (to: boolean) => (_result: unknown, _args: ShareArgs, before: { shared: boolean }) =>
  before.shared === to ? NOTHING_CHANGED : { before: { shared: before.shared }, after: { shared: to } };
