import { Lesion, Patient, PatientShare, User } from '../../entities';
import type { AppContext } from '../../schema/context';
import { byId, requestLoader } from '../../schema/loaders';

export const patientById = (ctx: AppContext) =>
  requestLoader<string, Patient | null>(ctx, 'patientById', async (ids) =>
    byId(await ctx.em.find(Patient, { id: { $in: [...ids] } }), ids),
  );

export const lesionById = (ctx: AppContext) =>
  requestLoader<string, Lesion | null>(ctx, 'lesionById', async (ids) =>
    byId(await ctx.em.find(Lesion, { id: { $in: [...ids] } }), ids),
  );

/** Lesions of each patient, newest first. */
export const lesionsByPatient = (ctx: AppContext) =>
  requestLoader<string, Lesion[]>(ctx, 'lesionsByPatient', async (ids) => {
    const rows = await ctx.em.find(
      Lesion,
      { patient: { $in: [...ids] } },
      { orderBy: { createdAt: 'desc', id: 'desc' } },
    );
    return ids.map((id) => rows.filter((r) => r.patient.id === id));
  });

export const userById = (ctx: AppContext) =>
  requestLoader<string, User | null>(ctx, 'userById', async (ids) =>
    byId(await ctx.em.find(User, { id: { $in: [...ids] } }), ids),
  );

/** Clinicians each patient is shared with. */
export const sharedWithByPatient = (ctx: AppContext) =>
  requestLoader<string, User[]>(ctx, 'sharedWithByPatient', async (ids) => {
    const shares = await ctx.em.find(
      PatientShare,
      { patient: { $in: [...ids] } },
      { populate: ['user'], orderBy: { createdAt: 'asc' } },
    );
    return ids.map((id) => shares.filter((s) => s.patient.id === id).map((s) => s.user));
  });
