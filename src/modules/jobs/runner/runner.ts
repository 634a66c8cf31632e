import { type EntityManager, type MikroORM } from '@mikro-orm/postgresql';
import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { Image } from '../../../entities/image';
import { JobKind, JobStatus, type InferenceJob } from '../../../entities/inference-job';
import { Prediction } from '../../../entities/prediction';
import { Segmentation } from '../../../entities/segmentation';
import type { FileStore } from '../../../infra/storage/file-store';
import type { ModelRegistry } from '../../../models-registry';
import type { SeverityThresholds } from '../../../inference/severity';
import { PermanentJobError, type JobAttempt } from '../queue/queue';
import type { ProgressPublisher, NewProgressEvent, Stage } from '../progress';
import type { JobMetrics } from '../metrics';
import type { JobRepository } from '../job.repository';
import type { ResultRepository } from '../results.repository';
import type { JobRequest } from '../job-request';
import { isPinned, type MemberRun, type MemberSessions, type MemberSpec } from './members';
import { classifyImage, imagePixels, lazySource, type StageReport } from './pipeline';
import type { ImageWork } from './image-threads';
import type { PixelBudget } from './pixel-budget';
import type { Logger } from '../../../infra/observability/logger';
import { JobResults, ResultSink } from './result-writer';
import { ProgressTracker, STAGE_SHARE } from './progress-tracker';
import { attemptFailure } from './failures';
import type { ImageRef } from '../job-request';
import { AttemptState, type JobCancellations } from './cancellation';
import { withRequestId } from '../../../infra/observability/request-scope';
import type { DecodedPixels } from './decoded-pixels';
import type { WaitedResults } from './waited-results';
import { classificationRow, segmentationRow, type CommonColumns } from './result-rows';
import { publishJobEvent, stageEvent, storedPredictionEvents, type ImageEvent } from './image-events';
import { segmentAndStore } from './segment-and-store';
import type { AbstainConfig } from '../../../infra/config';

export interface RunnerDeps {
  orm: MikroORM;
  jobs: JobRepository;
  results: ResultRepository;
  files: FileStore;
  registry: ModelRegistry;
  sessions: MemberSessions;
  progress: ProgressPublisher;
  metrics: JobMetrics;
  severity: SeverityThresholds;
  /** ABSTAIN_MARGIN and QUALITY_*: when a classification abstains. */
  abstain: AbstainConfig;
  logger: Logger;
  /** Images of one batch job processed at once (they share dynamic batches). */
  imageConcurrency?: number;
  /** Where full-resolution image work runs (off the event loop). */
  images: ImageWork;
  /** Bounds the image pixels this process's segmentations hold at once. */
  pixels: PixelBudget;
  /** Where this process hears that a job it runs was cancelled. */
  cancellations: JobCancellations;
  /** Pixels uploads in this process decoded for the jobs that follow them (inline mode). */
  decoded?: DecodedPixels;
  /** Predictions of jobs a request in this process waits on, handed over as they land (inline mode). */
  waited?: WaitedResults;
}

const kindLabel = (job: InferenceJob) => job.kind.toLowerCase();

/** What a job of another kind (a report) gets to do its work: the job, a publisher, and whether it should stop. */
export interface KindRun {
  job: InferenceJob;
  em: EntityManager;
  attempt: number;
  /** True once the job was cancelled or ended elsewhere: stop between steps, store nothing. */
  stopped(): boolean;
  /** Publishes a progress event on the job's channel (status and attempt are filled in). */
  publish(e: Partial<NewProgressEvent> & { stage: Stage }): Promise<void>;
}

/**
 * Runs a job of a kind this module does not compute itself; resolving means its work is done (the
 * runner then ends the job SUCCEEDED), throwing is a failed attempt like any other.
 */
export type KindHandler = (run: KindRun) => Promise<void>;

/**
 * Runs one attempt of a job, wherever it is (api process or worker). The job row is the source
 * of truth: a finished job is never run again (a redelivered queue entry is a no-op), and images
 * whose result an earlier attempt already stored are skipped, so each image is written once.
 */
export class JobRunner {
  private readonly sink: ResultSink;
  private readonly handlers = new Map<JobKind, KindHandler>();

  constructor(private readonly deps: RunnerDeps) {
    this.sink = new ResultSink(deps.orm, deps);
    deps.cancellations.listen();
  }

  /** Lets another module run the jobs of `kind` (the reports module registers REPORT). */
  registerKind(kind: JobKind, handler: KindHandler): void {
    this.handlers.set(kind, handler);
  }

  async run({ jobId, attempt, final }: JobAttempt): Promise<void> {
    const em = this.deps.orm.em.fork();
    // Watched before the claim, so a cancel from the claim on reaches this attempt.
    const watch = this.deps.cancellations.watch(jobId);
    try {
      // Claim in one statement: a job already finished or cancelled (a redelivered queue entry) is left alone.
      const job = await this.deps.jobs.claim(em, jobId);
      if (!job) return;
      // The attempt runs under the id of the request that queued the job (log lines, audit rows).
      const requestId = (job.request as unknown as Partial<JobRequest>).requestId;
      try {
        await withRequestId(requestId, () =>
          this.attempt(job, em, { jobId, attempt, final }, new AttemptState(watch.flag)),
        );
      } finally {
        // Once the job row says it ended: sessions kept only for jobs that pinned a version may go.
        if ((job.request as unknown as Partial<JobRequest>).members?.some(isPinned))
          void this.deps.registry.recheckPins();
      }
    } finally {
      watch.release();
    }
  }

  /**
   * One attempt of a claimed job: its images, then the job row finished, retried or failed. A job
   * cancelled meanwhile stops between images and ends quietly: cancelJob has ended its row and
   * announced it; the results stored before stay.
   */
  private async attempt(
    job: InferenceJob,
    em: EntityManager,
    { jobId, attempt, final }: JobAttempt,
    state: AttemptState,
  ): Promise<void> {
    const { orm, metrics } = this.deps;
    const kind = kindLabel(job);
    const started = process.hrtime.bigint();
    const resuming = job.attempts > 1;
    const stopped = () =>
      this.deps.logger.info({ jobId, attempt }, 'inference job stopped: cancelled or ended elsewhere');
    try {
      const handler = this.handlers.get(job.kind);
      if (handler)
        await handler({
          job,
          em,
          attempt,
          stopped: () => state.stopped,
          publish: async (e) => {
            if (!state.stopped) await this.publish(job, e);
          },
        });
      else await this.execute(job, em, resuming, state);
      if (state.stopped) return stopped();
      if (job.status !== JobStatus.SUCCEEDED) {
        // One plain statement (no query builder): the job row is the only shared state. (Usually the
        // statement that stored the last result has finished the job already.)
        const finishedAt = new Date();
        Object.assign(job, {
          status: JobStatus.SUCCEEDED,
          stage: 'done',
          progress: 1,
          error: null,
          finishedAt,
          updatedAt: finishedAt,
        });
        if (!(await this.deps.jobs.finish(em, job))) return stopped();
      }
      await this.publish(job, { stage: 'done', progress: 1 });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.jobSeconds.observe({ kind, status: JobStatus.SUCCEEDED }, seconds);
      this.deps.logger.info({ jobId, kind, attempt, ms: Math.round(seconds * 1000) }, 'inference job succeeded');
    } catch (err) {
      // Whatever failed after the job was cancelled no longer matters to it.
      if (state.stopped) return stopped();
      const failure = attemptFailure(err, attempt, final);
      if (!failure.permanent) this.deps.logger.error({ err, jobId, attempt }, 'inference job attempt failed');
      const fresh = await this.deps.jobs.recordFailedAttempt(orm.em.fork(), jobId, {
        error: failure.error,
        final: failure.ends,
      });
      // Null: the job was cancelled (or deleted) meanwhile; it stays as it is and is not retried.
      if (!fresh) return stopped();
      await this.publish(fresh, failure.event);
      if (failure.ends) {
        metrics.failures.inc({ kind, reason: failure.reason.code });
        metrics.jobSeconds.observe({ kind, status: JobStatus.FAILED }, Number(process.hrtime.bigint() - started) / 1e9);
        if (!(err instanceof PermanentJobError))
          throw new PermanentJobError(failure.reason.message, failure.reason.code);
      } else {
        metrics.retries.inc({ kind });
      }
      throw err;
    }
  }

  /** Ends a job the queue gave up on (a no-op when it already finished). */
  async abandon(jobId: string, reason: string): Promise<void> {
    const job = await this.deps.jobs.abandon(this.deps.orm.em.fork(), jobId, `INTERNAL_SERVER_ERROR: ${reason}`);
    if (!job) return;
    this.deps.metrics.failures.inc({ kind: kindLabel(job), reason: 'INTERNAL_SERVER_ERROR' });
    await this.publish(job, { stage: 'failed', message: reason });
  }

  private async publish(job: InferenceJob, e: ImageEvent): Promise<void> {
    await publishJobEvent(this.deps.progress, job, e);
  }

  private async execute(
    job: InferenceJob,
    em: ReturnType<MikroORM['em']['fork']>,
    resuming: boolean,
    state: AttemptState,
  ): Promise<void> {
    const req = job.request as unknown as JobRequest;
    // The api recorded each image's file and patient when it checked access; older rows are looked up.
    const refs: ImageRef[] =
      req.images ??
      (await em.find(Image, { id: { $in: req.imageIds } })).map((i) => ({
        id: i.id,
        sha256: i.sha256,
        patientId: i.patient.id,
      }));
    const byId = new Map(refs.map((i) => [i.id, i]));
    const Done = job.kind === JobKind.CLASSIFY ? Prediction : Segmentation;
    // Images an earlier attempt (a killed worker, a retry) already stored are not run again.
    const doneImages = resuming ? await this.deps.results.storedFor(em, Done, job.id) : new Map<string, string>();

    // Opening every member before any image pins their versions for the whole job.
    const runs: MemberRun[] = [];
    try {
      for (const s of req.members) runs.push(await this.openMember(s));
      const total = req.imageIds.length;
      const tracker = new ProgressTracker(total, doneImages.size);
      const queue = req.imageIds.map((id, index) => ({ id, index })).filter(({ id }) => !doneImages.has(id));
      // Results go in with the job's progress and result ids (job(id) shows them as they land), and
      // the statement that stores the last one finishes the job.
      const results = new JobResults(job.id, req.imageIds, doneImages);
      state.results = results;
      const workers = Array.from({ length: Math.min(queue.length, this.deps.imageConcurrency ?? 8) }, async () => {
        // A cancelled job starts no further image (the images in flight finish, unstored).
        for (let next = queue.shift(); next && !state.stopped; next = queue.shift()) {
          const image = byId.get(next.id);
          if (!image) throw new PermanentJobError(`image ${next.id} no longer exists`, 'NOT_FOUND');
          await this.runImage(job, req, image, next.index, tracker, runs, results, state);
          job.progress = tracker.progress(0);
        }
      });
      await Promise.all(workers);
      job.resultIds = results.resultIds();
      if (results.finishedAt)
        Object.assign(job, {
          status: JobStatus.SUCCEEDED,
          stage: 'done',
          progress: 1,
          error: null,
          finishedAt: results.finishedAt,
          updatedAt: results.finishedAt,
        });
    } finally {
      for (const r of runs) r.release();
    }
  }

  private async openMember(s: MemberSpec): Promise<MemberRun> {
    try {
      return await this.deps.sessions.open(s);
    } catch (e) {
      throw new PermanentJobError(
        `model ${s.model}@${s.version} is not available: ${(e as Error).message}`,
        'MODEL_UNAVAILABLE',
      );
    }
  }

  private async runImage(
    job: InferenceJob,
    req: JobRequest,
    image: ImageRef,
    index: number,
    tracker: ProgressTracker,
    runs: MemberRun[],
    results: JobResults,
    state: AttemptState,
  ): Promise<void> {
    const { files, metrics } = this.deps;
    const kind = kindLabel(job);
    const base = { imageId: image.id, imageIndex: index };
    // After a cancel the job's stream has ended with `cancelled`: nothing more is announced.
    const publish = async (e: ImageEvent) => {
      if (!state.stopped) await this.publish(job, e);
    };
    let last = process.hrtime.bigint();
    const report: StageReport = async (stage, detail) => {
      const now = process.hrtime.bigint();
      metrics.stageSeconds.observe({ kind, stage }, Number(now - last) / 1e9);
      last = now;
      await publish(stageEvent(base, stage, tracker.progress(STAGE_SHARE[stage]), detail));
    };
    // Read whole and decoded from memory: sharp opening the file itself cost ~0.3 ms more CPU per image.
    const read = () => readFile(files.path(image.sha256));
    const owner = (job.owner as unknown as { id: string }).id;
    const now = new Date();
    const patientId = image.patientId;
    const id = randomUUID();
    const row: CommonColumns = { id, createdAt: now, updatedAt: now, owner, job: job.id, imageId: image.id, patientId };
    if (job.kind === JobKind.CLASSIFY) {
      // Not read at all when the upload before this job decoded it (DecodedPixels).
      const r = await classifyImage(
        lazySource(read),
        runs,
        {
          explain: req.explain ?? true,
          targetLabel: req.targetLabel,
          sessions: this.deps.sessions,
          decoded: this.deps.decoded?.get(image.sha256),
        },
        async (stage, d) => {
          if (stage !== 'gradcam') await report(stage, d);
        },
      );
      // Quality of the pixels classified and the margin of the call: does the result abstain? The map
      // only, in the row: the heatmap and overlays are rendered from it when first asked for.
      const { row: p, cam } = classificationRow(row, r, req, this.deps.abstain);
      // Cancelled meanwhile: the result is not stored.
      if (state.stopped) return;
      // Another attempt's result for this image won: it was announced then.
      if ((await this.sink.store(Prediction, results, p)) !== id) return;
      for (const e of storedPredictionEvents(base, tracker, id, cam, image.sha256)) await publish(e);
    } else {
      const source = await read();
      // Its pixels (decoded image, maps, mask: a few bytes each) are held until its files are stored.
      const giveBack = await this.deps.pixels.acquire(await imagePixels(source));
      const { r, members, maskFile, probFile, overlayFile } = await segmentAndStore(
        this.deps,
        source,
        runs,
        req,
        image,
        report,
      ).finally(giveBack);
      const stored = { mask: maskFile.sha256, probability: probFile.sha256, overlay: overlayFile.sha256 };
      const seg = segmentationRow(row, r, members, stored, req);
      if (state.stopped) return;
      if ((await this.sink.store(Segmentation, results, seg)) !== id) return;
      await publish({ ...base, stage: 'persisted', progress: tracker.finishImage(), segmentationId: id });
    }
    metrics.stageSeconds.observe({ kind, stage: 'persisted' }, Number(process.hrtime.bigint() - last) / 1e9);
  }
}
