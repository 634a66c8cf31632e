import type { EntityManager } from '@mikro-orm/postgresql';
import { Image } from '../../entities';
import {
  advisoryXactLocks,
  createdBetween,
  firstRowsPerParent,
  keysetAfter,
  uuidArray,
  type Statement,
} from '../../infra/database/sql';

/** Whose images: a patient's, or a lesion's. */
export type ImageScope = { patientId?: string; lesionId?: string };

/** Images of a patient or lesion, newest first, created in the window and after the cursor of the query tagged `tag`. */
export function findImages(
  em: EntityManager,
  scope: ImageScope,
  args: { since?: Date | null; until?: Date | null; tag: string; after?: string | null; take: number },
): Promise<Image[]> {
  const qb = imagesQb(em, scope, args).select('*');
  keysetAfter(qb, 'i', args.tag, args.after);
  return qb.orderBy({ createdAt: 'desc', id: 'desc' }).limit(args.take).getResultList();
}

/** Images of a patient or lesion created in the window (aliased `i`). */
function imagesQb(em: EntityManager, scope: ImageScope, window: { since?: Date | null; until?: Date | null }) {
  const qb = em
    .createQueryBuilder(Image, 'i')
    .where(scope.lesionId ? { lesion: scope.lesionId } : { patient: scope.patientId });
  createdBetween(qb, 'i', window);
  return qb;
}

/** How many images `findImages` pages over: the same window, no cursor. */
export function countImages(
  em: EntityManager,
  scope: ImageScope,
  window: { since?: Date | null; until?: Date | null },
): Promise<number> {
  return imagesQb(em, scope, window).getCount();
}

/** The newest `take` images of each patient (or lesion), in one statement. */
export function firstImagesOf(
  em: EntityManager,
  column: 'patient_id' | 'lesion_id',
  ids: readonly string[],
  take: number,
): Promise<Map<string, Image[]>> {
  return firstRowsPerParent(em, Image, 'images', column, ids, take);
}

/** Number of images of each patient (absent: none). */
export async function countImagesByPatient(
  em: EntityManager,
  patientIds: readonly string[],
): Promise<Map<string, number>> {
  const rows = (await em.execute(
    `select patient_id, count(*)::int as n from images where patient_id = any(?::uuid[]) group by patient_id`,
    [uuidArray(patientIds)],
  )) as { patient_id: string; n: number }[];
  return new Map(rows.map((r) => [r.patient_id, r.n]));
}

/** sha256 of each image (its stored file). */
export async function imageShas(em: EntityManager, ids: readonly string[]): Promise<Map<string, string>> {
  const rows = (await em.execute(`select id, sha256 from images where id = any(?::uuid[])`, [uuidArray(ids)])) as {
    id: string;
    sha256: string;
  }[];
  return new Map(rows.map((r) => [r.id, r.sha256]));
}

/**
 * Serialises placing and cleaning up the stored file `sha256` across processes, until the
 * transaction ends: a 64-bit advisory lock keyed by the sha256.
 */
export async function lockFile(tem: EntityManager, sha256: string): Promise<void> {
  const { sql, params } = fileLocks([sha256]);
  await tem.execute(sql, params);
}

/**
 * lockFile for a whole batch, in sorted order (no deadlock between batches), with `also` (other
 * advisory-lock keys the transaction needs, e.g. a quota's) in the same statement; sent ahead of the
 * quota's count in one round trip (uploadImages).
 */
export function fileLocks(shas: readonly string[], also: readonly string[] = []): Statement {
  return advisoryXactLocks([...shas, ...also]);
}

/** An image row as an upload records it. */
export interface NewImageRow {
  id: string;
  createdAt: Date;
  patientId: string;
  lesionId: string | null;
  uploadedById: string;
  sha256: string;
  format: string;
  mimeType: string;
  byteSize: number;
  width: number;
  height: number;
  orientation: number;
  originalName: string | null;
}

/** One statement inserting the rows and returning them whole (for `em.map`). */
export function insertImagesStatement(rows: readonly NewImageRow[]): Statement {
  const columns =
    'id, created_at, updated_at, patient_id, lesion_id, uploaded_by_id, sha256, format, mime_type, byte_size, width, height, orientation, original_name';
  return {
    sql: `insert into images (${columns}) values ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')} returning *`,
    params: rows.flatMap((r) => [
      r.id,
      r.createdAt,
      r.createdAt,
      r.patientId,
      r.lesionId,
      r.uploadedById,
      r.sha256,
      r.format,
      r.mimeType,
      r.byteSize,
      r.width,
      r.height,
      r.orientation,
      r.originalName,
    ]),
  };
}

/** How many images reference the stored file `sha256`. */
export function countImagesWithFile(em: EntityManager, sha256: string): Promise<number> {
  return em.count(Image, { sha256 });
}
