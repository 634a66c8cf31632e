import { PassThrough } from 'node:stream';
import type { EntityManager } from '@mikro-orm/postgresql';
import {
  Image,
  JobKind,
  JobStatus,
  Patient,
  PatientEvent,
  PatientEventKind,
  Report,
  ReportKind,
  ReportStatus,
  User,
  type InferenceJob,
} from '../../entities';
import type { Config } from '../../infra/config';
import { badInput, notFound } from '../../infra/errors';
import { isUuid } from '../../infra/database/sql';
import type { Logger } from '../../infra/observability/logger';
import { findAccessible, requireAccess, type Caller } from '../patients';
import { AuditAction, type AuditWriter, type RequestMeta } from '../audit';
import { severityOf, type JobsModule, type KindRun } from '../jobs';
import { renderReport, reportFileName, type RenderContext } from './report-files';
import { reportImages } from './report-sources';
import type { ReportRepository } from './reports.repository';

/** What generateReport is asked for: a kind and exactly one source of images. */
export interface ReportRequest {
  kind: ReportKind;
  imageIds?: string[] | null;
  patientId?: string | null;
  lesionId?: string | null;
  jobId?: string | null;
}

/** How many images each kind makes in the request per REPORT_INLINE_MAX_IMAGES (the cost of one image varies a lot). */
const INLINE_FACTOR: Record<ReportKind, number> = {
  [ReportKind.PDF]: 1,
  [ReportKind.PDFS_ZIP]: 1,
  [ReportKind.MASKS_ZIP]: 10,
  [ReportKind.CSV]: 100,
};

/** Images between two looks at whether a report made by a job was deleted meanwhile. */
const DELETED_CHECK_EVERY = 20;

/** Thrown inside rendering when the report should stop (deleted, or its job cancelled): nothing is stored. */
class ReportStopped extends Error {}

export interface ReportsDeps {
  config: Config;
  logger: Logger;
  repo: ReportRepository;
  jobs: JobsModule;
  audit: AuditWriter;
}

/**
 * generateReport and the work behind it: which images a request covers (each checked against the
 * caller's access), the report row with its patients, the audit row and timeline events, and the
 * file, made in the request when small or by a REPORT job otherwise.
 */
export class ReportsService {
  constructor(private readonly deps: ReportsDeps) {}

  /** Records the report and makes it now (small) or queues its job; the report as it stands. */
  async generate(
    em: EntityManager,
    user: Caller,
    input: ReportRequest,
    meta: RequestMeta,
  ): Promise<{ report: Report; job: InferenceJob | null }> {
    const imageIds = await this.resolveImages(em, user, input);
    if (input.kind === ReportKind.PDF && imageIds.length !== 1)
      throw badInput('kind', `A PDF report covers one image (this request covers ${imageIds.length}); use PDFS_ZIP`, {
        reason: 'ONE_IMAGE_PER_PDF',
      });
    if (input.kind === ReportKind.MASKS_ZIP && (await this.deps.repo.segmentedCount(em, imageIds)) === 0)
      throw badInput('kind', 'None of these images has a segmentation, so there is no mask to export', {
        reason: 'NO_SEGMENTATIONS',
      });
    const patientIds = await this.deps.repo.patientsOf(em, imageIds);
    const now = new Date();
    const first = imageIds.length === 1 ? await this.firstImage(em, imageIds[0]) : undefined;
    const report = Object.assign(new Report(), {
      owner: em.getReference(User, user.id),
      kind: input.kind,
      imageIds,
      imageCount: imageIds.length,
      fileName: reportFileName(input.kind, now, first),
      createdAt: now,
      updatedAt: now,
    });
    await this.deps.repo.create(em, report, patientIds);
    await this.record(em, user, report, patientIds, meta);

    if (imageIds.length <= this.deps.config.REPORT_INLINE_MAX_IMAGES * INLINE_FACTOR[input.kind]) {
      await this.makeNow(em, report);
      return { report, job: null };
    }
    const job = await this.deps.jobs.service.submitJob(em, user, JobKind.REPORT, { reportId: report.id, imageIds });
    await em.nativeUpdate(Report, { id: report.id }, { job: job.id });
    report.job = job;
    return { report, job };
  }

  async find(em: EntityManager, user: Caller, id: string): Promise<Report | null> {
    return isUuid(id) ? this.deps.repo.visible(em, user, id) : null;
  }

  /** Deletes a report its owner (or an admin) no longer wants, with its file; a job making it stops. */
  async delete(em: EntityManager, user: Caller, id: string): Promise<Report> {
    const seen = await this.find(em, user, id);
    if (!seen || (user.role !== 'ADMIN' && (seen.owner as unknown as { id: string }).id !== user.id))
      throw notFound('Report', { field: 'id' });
    const gone = await this.deps.repo.delete(em, seen.id);
    if (gone?.fileSha256 && !(await this.deps.repo.fileInUse(em, gone.fileSha256)))
      await this.deps.jobs.files.remove(gone.fileSha256);
    return seen;
  }

  /** The image ids a request covers, in order, each readable by the caller (NOT_FOUND names the field). */
  private async resolveImages(em: EntityManager, user: Caller, input: ReportRequest): Promise<string[]> {
    const sources = (['imageIds', 'patientId', 'lesionId', 'jobId'] as const).filter((k) => input[k] != null);
    if (sources.length !== 1)
      throw badInput('input', 'Give exactly one of imageIds, patientId, lesionId or jobId', { reason: 'ONE_SOURCE' });
    const max = this.deps.config.REPORT_MAX_IMAGES;
    const tooMany = (field: string, n: string) =>
      badInput(field, `A report covers at most ${max} images (REPORT_MAX_IMAGES); this one would cover ${n}`, {
        reason: 'TOO_MANY_IMAGES',
      });
    let ids: string[];
    if (input.imageIds) {
      // Counted before anything is read: 10 000 ids cost no query.
      ids = [...new Set(input.imageIds.map((id) => id.toLowerCase()))];
      if (ids.length > max) throw tooMany('imageIds', String(ids.length));
      if (ids.length) await requireAccess(em, user, 'image:read', ids, { field: (i) => `imageIds[${i}]` });
    } else if (input.patientId) {
      const patient = await requireAccess(em, user, 'patient:read', input.patientId, { field: 'patientId' });
      ids = await this.deps.repo.imagesOf(em, { patient: patient.id }, max + 1);
      if (ids.length > max) throw tooMany('patientId', `more than ${max}`);
    } else if (input.lesionId) {
      const lesion = await requireAccess(em, user, 'lesion:read', input.lesionId, { field: 'lesionId' });
      ids = await this.deps.repo.imagesOf(em, { lesion: lesion.id }, max + 1);
      if (ids.length > max) throw tooMany('lesionId', `more than ${max}`);
    } else {
      const job = await this.deps.jobs.service.findJob(em, user, input.jobId!);
      if (!job || job.kind === JobKind.REPORT) throw notFound('Job', { field: 'jobId' });
      ids = [...((job.request as { imageIds?: string[] }).imageIds ?? [])];
      // The job is visible only while every image is; read again so an image deleted since is reported.
      if ((await findAccessible(em, user, 'image:read', ids)).some((i) => !i))
        throw notFound('Image', { field: 'jobId' });
    }
    if (ids.length === 0) throw badInput('input', 'There are no images to report on', { reason: 'NO_IMAGES' });
    return ids;
  }

  /** The patient's external id of the one image of a single-image report, for its file name (access checked before). */
  private async firstImage(em: EntityManager, imageId: string) {
    const image = await em.findOne(Image, imageId, { populate: ['patient'] });
    return image ? { externalId: image.patient.externalId, imageId } : undefined;
  }

  /** Who exported which patients' data: an audit row, and an event on each patient's timeline. */
  private async record(
    em: EntityManager,
    user: Caller,
    report: Report,
    patientIds: string[],
    meta: RequestMeta,
  ): Promise<void> {
    await this.deps.audit(em, AuditAction.REPORT_GENERATED, {
      userId: user.id,
      actorId: user.id,
      success: true,
      meta,
      details: { reportId: report.id, kind: report.kind, imageCount: report.imageCount, patientIds },
    });
    const text = `${report.kind} report of ${report.imageCount} image${report.imageCount === 1 ? '' : 's'}`;
    await em.insertMany(
      PatientEvent,
      patientIds.map((patient) =>
        Object.assign(new PatientEvent(), {
          patient: em.getReference(Patient, patient),
          actor: em.getReference(User, user.id),
          kind: PatientEventKind.REPORT_GENERATED,
          text,
          reportId: report.id,
          createdAt: report.createdAt,
        }),
      ),
    );
  }

  /** Makes a small report in the request; a failure leaves it FAILED with a client-safe reason. */
  private async makeNow(em: EntityManager, report: Report): Promise<void> {
    await this.deps.repo.markRunning(em, report.id);
    try {
      const file = await this.render(em, report, async () => undefined);
      await this.deps.repo.finish(em, report.id, file);
      Object.assign(report, { status: ReportStatus.DONE, fileSha256: file.sha256, bytes: file.bytes });
    } catch (err) {
      this.deps.logger.error({ err, reportId: report.id }, 'report failed');
      const error = 'the report could not be made';
      await this.deps.repo.fail(em, report.id, error);
      Object.assign(report, { status: ReportStatus.FAILED, error });
    }
  }

  /** Renders the report into the file store (staged while written, so a failure leaves no file). */
  private async render(
    em: EntityManager,
    report: Report,
    onImage: RenderContext['onImage'],
  ): Promise<{ sha256: string; bytes: number }> {
    const { config, jobs } = this.deps;
    const ctx: RenderContext = {
      files: jobs.files,
      images: jobs.images,
      severity: severityOf(config),
      pdf: { paper: config.REPORT_PAPER, serviceName: `Dermagraph (${new URL(config.PUBLIC_URL).host})` },
      generatedAt: new Date(),
      onImage,
    };
    const out = new PassThrough();
    const [staged] = await Promise.all([
      jobs.files.stage(out),
      renderReport(report.kind, reportImages(em, report.imageIds), out, ctx),
    ]);
    const put = await jobs.files.commit(staged);
    return { sha256: put.sha256, bytes: put.size };
  }

  /**
   * The REPORT job's work (where this process runs jobs): the file written with a progress event
   * per image, then the report DONE. A report deleted meanwhile, or a cancelled job, stops
   * between images and leaves no file.
   */
  async runJob(run: KindRun): Promise<void> {
    const em = run.em.fork();
    const reportId = String((run.job.request as { reportId?: unknown }).reportId);
    const report = await this.deps.repo.find(em, reportId);
    if (!report || report.status === ReportStatus.DONE) return;
    await this.deps.repo.markRunning(em, report.id);
    const total = report.imageCount;
    const every = Math.max(1, Math.floor(total / 100));
    let file: { sha256: string; bytes: number };
    try {
      file = await this.render(em, report, async (index, imageId) => {
        if (run.stopped()) throw new ReportStopped();
        if (index % DELETED_CHECK_EVERY === DELETED_CHECK_EVERY - 1 && !(await this.deps.repo.exists(em, report.id)))
          throw new ReportStopped();
        // At most ~100 events however large the report.
        if (index % every === 0 || index === total - 1)
          await run.publish({ stage: 'rendering', imageId, imageIndex: index, progress: (index + 1) / total });
      });
    } catch (err) {
      if (err instanceof ReportStopped) return;
      throw err;
    }
    if (run.stopped() || !(await this.deps.repo.finish(em, report.id, file))) {
      if (!(await this.deps.repo.fileInUse(em, file.sha256))) await this.deps.jobs.files.remove(file.sha256);
    }
  }
}

/** How a report reads: its own status, or its job's while the job has not made it (FAILED with the job's reason). */
export function reportState(report: Report): { status: ReportStatus; error: string | null; progress: number } {
  const job = report.job as InferenceJob | null | undefined;
  if (report.status === ReportStatus.DONE) return { status: report.status, error: null, progress: 1 };
  if (!job || report.status === ReportStatus.FAILED)
    return { status: report.status, error: report.error ?? null, progress: 0 };
  switch (job.status) {
    case JobStatus.QUEUED:
      return { status: ReportStatus.PENDING, error: null, progress: job.progress };
    case JobStatus.RUNNING:
      return { status: ReportStatus.RUNNING, error: null, progress: job.progress };
    case JobStatus.SUCCEEDED:
      // The job ended without storing the file: the report stopped (it was being deleted).
      return { status: ReportStatus.FAILED, error: 'the report stopped before its file was stored', progress: 1 };
    default:
      return {
        status: ReportStatus.FAILED,
        error:
          job.status === JobStatus.CANCELLED ? 'the report job was cancelled' : (job.error ?? 'the report job failed'),
        progress: job.progress,
      };
  }
}
