import type { EntityManager } from '@mikro-orm/postgresql';
import { Image, Report, ReportPatient, ReportStatus } from '../../entities';
import { keysetOrder, keysetWhere, type Keyset } from '../../infra/pagination';
import { visiblePatientIdSql, type Caller } from '../patients';

/** Every statement on `reports` and `report_patients`. */
export class ReportRepository {
  /** The report and the patients it covers, in one transaction. */
  async create(em: EntityManager, report: Report, patientIds: readonly string[]): Promise<void> {
    await em.transactional(async (tx) => {
      await tx.insert(Report, report);
      await tx.insertMany(
        ReportPatient,
        patientIds.map((p) => ({ report: report.id, patient: p })),
      );
    });
  }

  /** The distinct patients of `imageIds`. */
  async patientsOf(em: EntityManager, imageIds: readonly string[]): Promise<string[]> {
    const rows = (await em.execute(
      `select distinct patient_id from images where id in (select jsonb_array_elements_text(?::jsonb)::uuid)`,
      [JSON.stringify(imageIds)],
    )) as { patient_id: string }[];
    return rows.map((r) => r.patient_id);
  }

  /** Image ids of a patient or a lesion, oldest first, at most `limit`. */
  async imagesOf(em: EntityManager, where: { patient: string } | { lesion: string }, limit: number): Promise<string[]> {
    const rows = await em.find(Image, where, { fields: ['id'], orderBy: { createdAt: 'asc', id: 'asc' }, limit });
    return rows.map((r) => r.id);
  }

  /** How many of `imageIds` have a segmentation. */
  async segmentedCount(em: EntityManager, imageIds: readonly string[]): Promise<number> {
    const rows = (await em.execute(
      `select count(distinct image_id)::int as n from segmentations where image_id in (select jsonb_array_elements_text(?::jsonb)::uuid)`,
      [JSON.stringify(imageIds)],
    )) as { n: number }[];
    return rows[0].n;
  }

  /**
   * The report `id` (with its job) when `user` may see it: an admin, or someone who may read every
   * patient it covers now (owner, current sharee), like every other result.
   */
  async visible(em: EntityManager, user: Caller, id: string): Promise<Report | null> {
    const qb = this.visibleQuery(em, user);
    return qb ? qb.andWhere({ id }).getSingleResult() : null;
  }

  /** A page of the reports on `patientId` that `user` may see, newest first (the patient itself checked by the caller). */
  async forPatient(em: EntityManager, user: Caller, patientId: string, k: Keyset): Promise<Report[]> {
    const qb = this.visibleQuery(em, user);
    if (!qb) return [];
    const order = keysetOrder(k);
    return qb
      .andWhere('r.id in (select report_id from report_patients where patient_id = ?)', [patientId])
      .andWhere(keysetWhere(k))
      .orderBy({ 'r.createdAt': order.createdAt, 'r.id': order.id })
      .limit(k.limit + 1)
      .getResultList();
  }

  async countForPatient(em: EntityManager, user: Caller, patientId: string): Promise<number> {
    const qb = this.visibleQuery(em, user);
    if (!qb) return 0;
    return qb.andWhere('r.id in (select report_id from report_patients where patient_id = ?)', [patientId]).getCount();
  }

  /** Reports (with their jobs) whose every patient `user` may read now; null when the user may read none. */
  private visibleQuery(em: EntityManager, user: Caller) {
    const readable = visiblePatientIdSql(user, 'rp.patient_id');
    if (!readable) return null;
    return em
      .createQueryBuilder(Report, 'r')
      .select('r.*')
      .leftJoinAndSelect('r.job', 'j')
      .where(
        `not exists (select 1 from report_patients rp where rp.report_id = r.id and not ${readable.sql})`,
        readable.params,
      );
  }

  /** The report as stored (for its job and its file route), or null. */
  find(em: EntityManager, id: string): Promise<Report | null> {
    return em.findOne(Report, { id });
  }

  async exists(em: EntityManager, id: string): Promise<boolean> {
    return (await em.count(Report, { id })) > 0;
  }

  async markRunning(em: EntityManager, id: string): Promise<void> {
    await em.nativeUpdate(Report, { id, status: { $ne: ReportStatus.DONE } }, { status: ReportStatus.RUNNING });
  }

  /** DONE with its file; false when the report is gone (deleted while it was made). */
  async finish(em: EntityManager, id: string, file: { sha256: string; bytes: number }): Promise<boolean> {
    const now = new Date();
    const n = await em.nativeUpdate(
      Report,
      { id },
      { status: ReportStatus.DONE, fileSha256: file.sha256, bytes: file.bytes, finishedAt: now, error: null },
    );
    return n > 0;
  }

  async fail(em: EntityManager, id: string, error: string): Promise<void> {
    await em.nativeUpdate(Report, { id }, { status: ReportStatus.FAILED, error, finishedAt: new Date() });
  }

  /** Deletes the report (its patients go with it); returns what it was, or null. */
  async delete(em: EntityManager, id: string): Promise<Report | null> {
    const report = await em.findOne(Report, { id });
    if (!report) return null;
    await em.nativeDelete(Report, { id });
    return report;
  }

  /** Whether another report still names the file (identical bytes are stored once). */
  async fileInUse(em: EntityManager, sha256: string): Promise<boolean> {
    return (await em.count(Report, { fileSha256: sha256 })) > 0;
  }
}
