import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { EntityManager } from '@mikro-orm/postgresql';
import { JobStatus, type InferenceJob } from '../../../entities/inference-job';
import { Prediction } from '../../../entities/prediction';
import type { AbstainConfig } from '../../../infra/config';
import type { Statement } from '../../../infra/database/sql';
import type { Logger } from '../../../infra/observability/logger';
import type { ModelRegistry } from '../../../models-registry';
import type { JobRequest, ImageRef } from '../job-request';
import type { JobRepository } from '../job.repository';
import type { JobMetrics } from '../metrics';
import type { ProgressPublisher } from '../progress';
import { columnRow, type ResultRepository, type ResultRow } from '../results.repository';
import type { DecodedPixels } from './decoded-pixels';
import { publishJobEvent, stageEvent, storedPredictionEvents, type ImageEvent } from './image-events';
import { isPinned, type MemberRun, type MemberSessions, type MemberSpec } from './members';
import { classifyImage, lazySource, type ClassifyResult, type StageReport } from './pipeline';
import { ProgressTracker, STAGE_SHARE } from './progress-tracker';
import { classificationRow, type RowCam } from './result-rows';

export interface InRequestDeps {
  sessions: MemberSessions;
  registry: ModelRegistry;
  decoded: DecodedPixels;
  progress: ProgressPublisher;
  metrics: JobMetrics;
  abstain: AbstainConfig;
  jobs: JobRepository;
  results: ResultRepository;
  logger: Logger;
}

/** What a classification in the request is asked to do: the job's checked classify options. */
export type InRequestPlan = Pick<JobRequest, 'members' | 'explain' | 'targetLabel' | 'ensemble'>;

type StageName = Parameters<StageReport>[0];

/** One image classified before the upload's transaction, and the stages it passed (announced once committed). */
interface Classified {
  result: ClassifyResult;
  stages: Array<{ stage: StageName; detail?: Parameters<StageReport>[1] }>;
}

/** A prediction made in the request, as its row goes in and as it is announced. */
interface Landing {
  image: ImageRef;
  index: number;
  row: ResultRow;
  cam: RowCam | null;
  stages: Classified['stages'];
}

/**
 * uploadImages with classify and wait, where this process runs the jobs (inline mode), classifies its
 * images inside the request: between their decode (whose pixels are the model's input, DecodedPixels)
 * and the upload's transaction, which then records the job already finished, with its predictions and
 * their usage, in the same commit. That is the shape of the one-image path the peer bench's persisted
 * floor has: the job's claim, its result statement, the queue's hand-over and the wait on the job's end
 * are gone (two round trips of six, about 4 ms of CPU per image on the 2-core bench VM).
 *
 * The job is what a queued job leaves behind: its row SUCCEEDED (attempts 1, started and finished,
 * its result ids), one prediction per image, and a progress log from `queued` to `done`, published
 * once committed (nobody can know the job's id before), so `inferenceProgress` replays it as it
 * would a queued job's. The quotas are the upload's: checked under their locks in the same
 * transaction, which counts the predictions in the month's usage.
 *
 * Anything that goes wrong before the transaction (a member that cannot open, a model that fails, the
 * request's wait running out first) gives the job back to the queue: it is recorded QUEUED and runs as
 * any other, with its retries, its failure and its `job(id)`. A refused upload stores nothing either way.
 * classifyImage with wait uses the same for a stored image (JobService.classifyInRequest), in a
 * transaction of its own.
 */
export class InRequestClassifier {
  constructor(private readonly deps: InRequestDeps) {}

  /** A classification of one upload's images, to settle by `deadline` (epoch ms). */
  begin(plan: InRequestPlan, deadline: number): InRequestClassification {
    return new InRequestClassification(this.deps, plan, deadline);
  }
}

export class InRequestClassification {
  private runs: Promise<MemberRun[]> | null = null;
  private readonly pending = new Map<string, Promise<Classified>>();
  private readonly startedAt = new Date();
  private readonly started = process.hrtime.bigint();
  private landed: { job: InferenceJob; landings: Landing[] } | null = null;
  private released = false;

  constructor(
    private readonly deps: InRequestDeps,
    private readonly plan: InRequestPlan,
    private readonly deadline: number,
  ) {}

  /**
   * Starts classifying an image the upload has just decoded (by content: two files with the same
   * bytes are classified once). `source` is read only if its pixels are no longer kept.
   */
  add(sha256: string, source: Buffer | string): void {
    if (this.released || this.pending.has(sha256)) return;
    const classified = this.classify(sha256, source);
    classified.catch(() => undefined); // its failure is settle()'s to tell
    this.pending.set(sha256, classified);
  }

  /**
   * Every image's classification, or null when one failed or the deadline came first: the job is then
   * recorded QUEUED and run by the queue (what it would have been without this).
   */
  async settle(): Promise<Map<string, Classified> | null> {
    // Settles either way, so that a failure after the deadline is nobody's unhandled rejection.
    const all = Promise.all([...this.pending].map(async ([k, p]) => [k, await p] as const)).then(
      (entries) => new Map(entries),
      (err: unknown) => err as Error,
    );
    // A wait already over by now is late, whatever has finished: what the request does must not depend on how its
    // own steps happened to overlap (with a wait of 0, nothing is classified in the request).
    let done: Map<string, Classified> | Error | 'late' = 'late';
    const left = this.deadline - Date.now();
    if (left > 0) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), left)));
      done = await Promise.race([all, late]).finally(() => clearTimeout(timer));
    }
    if (done instanceof Map) {
      this.deps.metrics.inRequest.inc({ outcome: 'classified' });
      return done;
    }
    this.deps.metrics.inRequest.inc({ outcome: 'queued' });
    if (done === 'late')
      this.deps.logger.warn({ images: this.pending.size }, 'classification in the request ran past the wait: queued');
    else this.deps.logger.warn({ error: done.message }, 'classification in the request failed: queued');
    return null;
  }

  /**
   * The statements that record `job` finished with the predictions `done` holds for `images` (its
   * images in order, as the upload inserts them): the job's row and the predictions' with their usage.
   */
  record(
    em: EntityManager,
    job: InferenceJob,
    ownerId: string,
    images: ImageRef[],
    done: Map<string, Classified>,
  ): Statement[] {
    const finishedAt = new Date();
    const req = job.request as unknown as JobRequest;
    const landings = images.map((image, index): Landing => {
      const { result, stages } = done.get(image.sha256)!;
      const common = {
        id: randomUUID(),
        createdAt: finishedAt,
        updatedAt: finishedAt,
        owner: ownerId,
        job: job.id,
        imageId: image.id,
        patientId: image.patientId,
      };
      return { image, index, stages, ...classificationRow(common, result, req, this.deps.abstain) };
    });
    Object.assign(job, {
      // Asked for when the request began classifying: created, started and finished in that order.
      createdAt: this.startedAt,
      status: JobStatus.SUCCEEDED,
      stage: 'done',
      progress: 1,
      attempts: 1,
      startedAt: this.startedAt,
      finishedAt,
      updatedAt: finishedAt,
      resultIds: landings.map((l) => l.row.id),
    });
    this.landed = { job, landings };
    return [
      this.deps.jobs.insertStatement(job, ownerId),
      this.deps.results.insertStatement(
        em,
        Prediction,
        landings.map((l) => l.row),
      ),
    ];
  }

  /** The predictions recorded, as their table holds them (what the waiting request answers from). */
  rows(em: EntityManager): Record<string, unknown>[] {
    return (this.landed?.landings ?? []).map((l) => columnRow(em, Prediction, l.row));
  }

  /**
   * Once committed: the job's progress log as its run on the queue would have left it (queued, each
   * image's stages, its Grad-CAM and persisted, done), its metrics and its log line. Never throws: the
   * job and its predictions are committed, and a log that could not be written (Redis down) loses only
   * its replay.
   */
  async announce(): Promise<void> {
    if (!this.landed) return;
    const { job } = this.landed;
    await this.publishAll().catch((err: unknown) =>
      this.deps.logger.warn(
        { jobId: job.id, error: (err as Error).message },
        'progress of a job classified in the request not published',
      ),
    );
    const seconds = Number(process.hrtime.bigint() - this.started) / 1e9;
    this.deps.metrics.jobSeconds.observe({ kind: 'classify', status: JobStatus.SUCCEEDED }, seconds);
    this.deps.logger.info(
      { jobId: job.id, kind: 'classify', attempt: 1, ms: Math.round(seconds * 1000), inRequest: true },
      'inference job succeeded',
    );
  }

  private async publishAll(): Promise<void> {
    const { job, landings } = this.landed!;
    const { progress } = this.deps;
    // Each event as the queue's run would have published it: `queued` before any attempt, the rest in attempt 1.
    const publish = (e: ImageEvent, attempts = 1) =>
      publishJobEvent(progress, { id: job.id, total: job.total, progress: 0, attempts }, e);
    await publish({ stage: 'queued' }, 0);
    const tracker = new ProgressTracker(landings.length, 0);
    for (const l of landings) {
      const base = { imageId: l.image.id, imageIndex: l.index };
      for (const s of l.stages)
        await publish(stageEvent(base, s.stage, tracker.progress(STAGE_SHARE[s.stage]), s.detail));
      for (const e of storedPredictionEvents(base, tracker, l.row.id, l.cam, l.image.sha256)) await publish(e);
    }
    await publish({ stage: 'done', progress: 1 });
  }

  /** Lets the members go once every classification started has ended (whatever became of the request). */
  release(): void {
    if (this.released) return;
    this.released = true;
    const runs = this.runs;
    if (!runs) return;
    void Promise.allSettled([...this.pending.values()])
      .then(() => runs)
      .then((opened) => {
        for (const r of opened) r.release();
        if (this.plan.members.some(isPinned)) void this.deps.registry.recheckPins();
      })
      .catch(() => undefined); // a member that could not open holds nothing
  }

  private async classify(sha256: string, source: Buffer | string): Promise<Classified> {
    const runs = await (this.runs ??= this.open(this.plan.members));
    const stages: Classified['stages'] = [];
    let last = process.hrtime.bigint();
    const observe = (stage: string) => {
      const now = process.hrtime.bigint();
      this.deps.metrics.stageSeconds.observe({ kind: 'classify', stage }, Number(now - last) / 1e9);
      last = now;
    };
    const result = await classifyImage(
      lazySource(async () => (typeof source === 'string' ? readFile(source) : source)),
      runs,
      {
        explain: this.plan.explain ?? true,
        targetLabel: this.plan.targetLabel,
        sessions: this.deps.sessions,
        decoded: this.deps.decoded.get(sha256),
      },
      async (stage, detail) => {
        // As the queue's run: Grad-CAM is announced with its stored row, and timed with it under `persisted`.
        if (stage === 'gradcam') return;
        observe(stage);
        stages.push({ stage, detail });
      },
    );
    observe('persisted');
    return { result, stages };
  }

  /** Opens every member (which pins their versions for this classification), or none. */
  private async open(members: MemberSpec[]): Promise<MemberRun[]> {
    const runs: MemberRun[] = [];
    try {
      for (const s of members) runs.push(await this.deps.sessions.open(s));
      return runs;
    } catch (e) {
      for (const r of runs) r.release();
      throw e;
    }
  }
}
