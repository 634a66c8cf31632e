import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../../../infra/config';
import { AppError, badInput, notFound } from '../../../infra/errors';
import {
  InferenceJob,
  isFinishedJobStatus,
  JobKind,
  JobStatus,
  Prediction,
  Role,
  Segmentation,
  User,
} from '../../../entities';
import { deviceText, type ModelRegistry } from '../../../models-registry';
import { normaliseWeights, validateThreshold } from '../../../inference/ensemble';
import { executeBatch, isUuid, type Statement } from '../../../infra/database/sql';
import { inOrder } from '../../../infra/database/coalesced-reads';
import { findAccessible, requireAccess, visiblePatientIdSql, type Caller } from '../../patients';
import { assertWithinQuotas, quotaGuard, type QuotaAsk } from '../../quotas';
import type { MemberSpec } from '../runner/members';
import type { JobQueue } from '../queue/queue';
import type { ImageRef, JobRequest } from '../job-request';
import type { JobRepository } from '../job.repository';
import type { ResultRepository } from '../results.repository';
import type { ProgressPublisher, ProgressEvent } from '../progress';
import { closableStream } from '../closable-stream';
import { currentRequestId } from '../../../infra/observability/request-scope';
import type { DecodedPixels, DisplayedSize } from '../runner/decoded-pixels';
import { chooseClassifier } from './classifier-choice';
import { BatchedTransaction } from '../../../infra/database/batched-transaction';
import type { FileStore } from '../../../infra/storage/file-store';
import type { InRequestClassifier } from '../runner/in-request';

/** Most images one classifyImages / segmentImages call may name (a larger batch is split by the client). */
export const MAX_IMAGES_PER_JOB = 100;
export const MAX_MEMBERS = 8;

export interface MemberInput {
  model: string;
  version?: string | null;
  weight?: number | null;
  /** A DeviceInput: `{ kind: 'cuda', index: 1 }` is cuda:1. */
  device?: { kind: string; index?: number | null } | null;
}

export interface ClassifyArgs {
  models?: MemberInput[] | null;
  /** A named classification ensemble of the registry (instead of models). */
  ensemble?: string | null;
  explain?: boolean | null;
  targetClass?: string | null;
}

/** Checked classify options: what a classification job's request carries besides its images. */
export type ClassifyPlan = Pick<JobRequest, 'members' | 'explain' | 'targetLabel' | 'ensemble'>;
/** Checked segment options. */
export type SegmentPlan = Pick<JobRequest, 'members' | 'threshold'>;

/** Classify in the request (InRequestClassifier), settled by `deadline` (epoch ms): where the caller waits and this process runs the jobs. */
export interface InRequestOption {
  classifier: InRequestClassifier;
  deadline: number;
}

/** A job not yet recorded: the statement that records it and the quota it takes. */
export interface JobRecord {
  job: InferenceJob;
  insert: Statement;
  quota: QuotaAsk;
}

const isAdmin = (u: Caller) => u.role === Role.ADMIN;

/** MODEL_UNAVAILABLE for a name no model has (a typo): the message and `models` list the names of the task's models. */
function unknownModel(registry: ModelRegistry, name: string, task: string, field: string): AppError {
  const models = registry
    .list()
    .filter((m) => m.versions.some((v) => v.task === task))
    .map((m) => m.name)
    .sort();
  return new AppError(
    'MODEL_UNAVAILABLE',
    `no model is named "${name}"; the ${task} models are: ${models.join(', ') || 'none'}`,
    { field, model: name, models },
  );
}

/** Where `id` (lower case) was in the caller's list, as a field path. */
/** The images, in the order asked, if the caller may read every one (NOT_FOUND with the field of the first that is not). */
async function readableImages(
  em: EntityManager,
  user: Caller,
  ids: readonly string[],
  field: (i: number) => string,
): Promise<ImageRef[]> {
  const images = await requireAccess(em, user, 'image:read', ids, { field });
  return images.map((i) => ({ id: i.id, sha256: i.sha256, patientId: i.patient.id }));
}

const fieldOf = (imageIds: string[], id: string) => `imageIds[${imageIds.findIndex((x) => x.toLowerCase() === id)}]`;

/** A batch's image ids in lower case, duplicates dropped: at least one, at most MAX_IMAGES_PER_JOB. */
function imageIdList(imageIds: string[]): string[] {
  const ids = [...new Set(imageIds.map((id) => id.toLowerCase()))];
  if (ids.length === 0) throw badInput('imageIds', 'imageIds must name at least one image');
  if (ids.length > MAX_IMAGES_PER_JOB) {
    throw badInput('imageIds', `at most ${MAX_IMAGES_PER_JOB} images per call, got ${ids.length}`, {
      max: MAX_IMAGES_PER_JOB,
    });
  }
  return ids;
}

/**
 * The api side of jobs: checks a request completely (images readable, models loaded and of
 * the right task, weights, threshold, quota), records the job, queues it, and reads jobs and
 * results back for their owner (or an admin). Everything else answers NOT_FOUND.
 */
export class JobService {
  constructor(
    private readonly deps: {
      config: Config;
      registry: ModelRegistry;
      queue: JobQueue;
      progress: ProgressPublisher;
      jobs: JobRepository;
      results: ResultRepository;
      /** Where this process runs the jobs it queues: pixels its uploads decode for them. */
      decoded?: DecodedPixels | null;
      /** Where stored images are (a classification in the request reads its image there). */
      files?: FileStore;
    },
  ) {}

  /**
   * For uploadImages with classify, where this process runs the job: decodes an uploaded file at
   * the plan's input sizes (the decode that proves the file whole) and keeps the pixels for the
   * job. Null where jobs run in another process (the upload's own decode check then).
   */
  uploadDecoder(
    plan: ClassifyPlan,
  ): ((source: Buffer | string, sha256: string, size: DisplayedSize, maxPixels: number) => Promise<void>) | null {
    const decoded = this.deps.decoded;
    const specs = plan.members.flatMap((m) => this.deps.registry.versionInfo(m.model, m.version)?.input ?? []);
    if (!decoded || specs.length === 0) return null;
    return (source, sha256, size, maxPixels) => decoded.decode(source, sha256, specs, size, maxPixels);
  }

  /** Resolves members to loaded versions (the active one when none is named) and normalises weights. */
  resolveMembers(inputs: readonly MemberInput[], task: 'classification' | 'segmentation', field: string): MemberSpec[] {
    if (inputs.length === 0) throw badInput(field, 'at least one model is required');
    if (inputs.length > MAX_MEMBERS) throw badInput(field, `at most ${MAX_MEMBERS} ensemble members`);
    const weights = normaliseWeights(
      inputs.map((m) => m.weight ?? 1),
      `${field}.weight`,
    );
    const specs = inputs.map((m, i): MemberSpec => {
      const f = `${field}[${i}]`;
      if (typeof m.model !== 'string' || !m.model || m.model.length > 100)
        throw badInput(`${f}.model`, 'model must be a model name');
      const device = m.device != null ? deviceText(m.device, `${f}.device`) : null;
      const version = m.version ?? this.deps.registry.activeVersion(m.model);
      const info = version ? this.deps.registry.versionInfo(m.model, version) : null;
      if (!info || !version) {
        if (!this.deps.registry.model(m.model)) throw unknownModel(this.deps.registry, m.model, task, `${f}.model`);
        throw new AppError(
          'MODEL_UNAVAILABLE',
          m.version ? `model ${m.model} has no version ${m.version}` : `model ${m.model} has no active version`,
          { field: `${f}.${m.version ? 'version' : 'model'}`, model: m.model },
        );
      }
      if (info.status !== 'ACTIVE' && info.status !== 'READY') {
        // Refused here, never later: a queued job's version stays available until it has run.
        throw new AppError(
          'MODEL_UNAVAILABLE',
          `${m.model}@${version} is ${info.status}, not loaded: activate it or leave the version out`,
          { field: `${f}.version`, model: m.model },
        );
      }
      if (info.task !== task) throw badInput(`${f}.model`, `${m.model} is a ${info.task} model, not ${task}`);
      // A named version is pinned (the job runs on exactly it); otherwise the job runs on whatever is active when it starts.
      return { model: m.model, version, pinned: m.version != null, weight: weights[i], device };
    });
    if (task === 'classification') {
      const labels = (s: MemberSpec) => JSON.stringify(this.deps.registry.versionInfo(s.model, s.version)!.labels);
      if (specs.some((s) => labels(s) !== labels(specs[0])))
        throw badInput(field, 'classification ensemble members must share their labels');
    }
    return specs;
  }

  /**
   * With `inRequest` (the caller waits, in a process that runs the jobs) the image is classified in the
   * request and the job recorded finished with its prediction (classifyInRequest); otherwise queued.
   */
  classifyImage(
    em: EntityManager,
    user: Caller,
    args: ClassifyArgs & { imageId: string },
    inRequest?: InRequestOption,
  ): Promise<InferenceJob> {
    return this.classify(em, user, [args.imageId], () => 'imageId', args, inRequest);
  }

  /** One job over many images: each gets its own Prediction, reported and stored as it lands. */
  classifyImages(em: EntityManager, user: Caller, args: ClassifyArgs & { imageIds: string[] }): Promise<InferenceJob> {
    const ids = imageIdList(args.imageIds);
    return this.classify(em, user, ids, (i) => fieldOf(args.imageIds, ids[i]), args);
  }

  private async classify(
    em: EntityManager,
    user: Caller,
    imageIds: string[],
    field: (i: number) => string,
    args: ClassifyArgs,
    inRequest?: InRequestOption,
  ): Promise<InferenceJob> {
    // Independent reads (the images' access, the classifier's ensemble), started together: one round trip. A
    // classification in the request also reads the quota there: refused before the model runs, not after.
    const [images, plan] = await inOrder([
      readableImages(em, user, imageIds, field),
      this.classifyPlan(em, args),
      inRequest
        ? assertWithinQuotas(em, this.deps.config, user.id, [{ kind: 'predictions', adding: imageIds.length }])
        : null,
    ]);
    const done =
      inRequest && images.length === 1 ? await this.classifyInRequest(em, user, images, plan, inRequest) : null;
    return done ?? this.enqueue(em, await this.recordClassify(em, user, images, plan));
  }

  /**
   * A stored image classified in the request (InRequestClassifier), then one transaction: the user's
   * predictions quota locked and checked, the job recorded SUCCEEDED with its prediction and its usage.
   * Null when the classification could not be done (a member, the model, the wait's deadline): the caller
   * queues the job instead.
   */
  private async classifyInRequest(
    em: EntityManager,
    user: Caller,
    images: ImageRef[],
    plan: ClassifyPlan,
    { classifier, deadline }: InRequestOption,
  ): Promise<InferenceJob | null> {
    const { files, config } = this.deps;
    if (!files) return null;
    const run = classifier.begin(plan, deadline);
    try {
      for (const image of images) run.add(image.sha256, files.path(image.sha256));
      const classified = await run.settle();
      if (!classified) return null;
      const record = this.classifyRecord(em, user, images, plan);
      const guard = quotaGuard(config, user.id, [record.quota]);
      // A failure here (the quota refused, the database gone) is the request's: nothing was stored, and
      // queueing instead could run twice a job whose commit did land before its answer was lost.
      const tx = await BatchedTransaction.open(em);
      try {
        await tx
          .commitWith([...guard.statements, ...run.record(em, record.job, user.id, images, classified)])
          .catch(guard.rethrow);
      } finally {
        await tx.close();
      }
      await run.announce();
      return record.job;
    } finally {
      run.release();
    }
  }

  /**
   * Checks classify options on their own (models loaded and of the task, targetClass one of their
   * labels). `at` prefixes the fields errors name (uploadImages: `classify.`).
   */
  async classifyPlan(em: EntityManager, args: ClassifyArgs, at = ''): Promise<ClassifyPlan> {
    const { members, ensemble } = await chooseClassifier(em, args, at, {
      ...this.deps,
      resolve: (inputs, field) => this.resolveMembers(inputs, 'classification', field),
    });
    const labels = this.deps.registry.versionInfo(members[0].model, members[0].version)!.labels;
    if (args.targetClass != null && !labels.includes(args.targetClass)) {
      throw badInput(`${at}targetClass`, `targetClass must be one of ${labels.join(', ')}`);
    }
    return { members, explain: args.explain ?? true, targetLabel: args.targetClass ?? null, ensemble };
  }

  /** Records (does not queue) a classification of images the caller may read, within the quota. */
  recordClassify(em: EntityManager, user: Caller, images: ImageRef[], plan: ClassifyPlan): Promise<InferenceJob> {
    return this.insertJobWithinQuota(em, this.classifyRecord(em, user, images, plan));
  }

  /** A classification's row to record in a transaction of the caller's (uploadImages'), and the quota it takes. */
  classifyRecord(em: EntityManager, user: Caller, images: readonly ImageRef[], plan: ClassifyPlan): JobRecord {
    const request: JobRequest = { imageIds: images.map((i) => i.id), images: [...images], ...plan };
    return this.jobRecord(em, user, JobKind.CLASSIFY, request);
  }

  async segmentImages(
    em: EntityManager,
    user: Caller,
    args: {
      imageIds: string[];
      members: MemberInput[];
      threshold?: number | null;
      groundTruth?: Array<{ imageId: string; maskImageId: string }> | null;
    },
  ): Promise<InferenceJob> {
    const ids = imageIdList(args.imageIds);
    const plan = this.segmentPlan(args);
    const images = await readableImages(em, user, ids, (i) => fieldOf(args.imageIds, ids[i]));
    const truths = args.groundTruth ?? [];
    for (const [i, g] of truths.entries()) {
      if (!ids.includes(g.imageId))
        throw badInput(`groundTruth[${i}].imageId`, 'groundTruth names an image that is not in imageIds');
      if (truths.findIndex((t) => t.imageId === g.imageId) !== i)
        throw badInput(`groundTruth[${i}].imageId`, 'one ground truth per image');
    }
    const masks = await readableImages(
      em,
      user,
      truths.map((g) => g.maskImageId),
      (i) => `groundTruth[${i}].maskImageId`,
    );
    const truth = Object.fromEntries(truths.map((g, i) => [g.imageId, masks[i].id]));
    return this.enqueue(em, await this.recordSegment(em, user, images, plan, truths.length ? truth : undefined));
  }

  /** Checks segment options on their own (threshold, members loaded and of the task); `at` as for classifyPlan. */
  segmentPlan(args: { members: MemberInput[]; threshold?: number | null }, at = ''): SegmentPlan {
    const threshold = args.threshold ?? 0.5;
    validateThreshold(threshold, `${at}threshold`);
    return { members: this.resolveMembers(args.members, 'segmentation', `${at}members`), threshold };
  }

  /** Records (does not queue) a segmentation of images the caller may read, within the quota. */
  recordSegment(
    em: EntityManager,
    user: Caller,
    images: ImageRef[],
    plan: SegmentPlan,
    truth?: Record<string, string>,
  ): Promise<InferenceJob> {
    return this.insertJobWithinQuota(em, this.segmentRecord(em, user, images, plan, truth));
  }

  /** A segmentation's row to record in a transaction of the caller's, as classifyRecord. */
  segmentRecord(
    em: EntityManager,
    user: Caller,
    images: readonly ImageRef[],
    plan: SegmentPlan,
    truth?: Record<string, string>,
  ): JobRecord {
    const request: JobRequest = {
      imageIds: images.map((i) => i.id),
      images: [...images],
      ...plan,
      ...(truth ? { truth } : {}),
    };
    return this.jobRecord(em, user, JobKind.SEGMENT, request);
  }

  private jobRecord(em: EntityManager, user: Caller, kind: JobKind, request: JobRequest): JobRecord {
    const job = this.newJob(em, user, kind, request);
    return {
      job,
      insert: this.deps.jobs.insertStatement(job, user.id),
      quota: { kind: kind === JobKind.CLASSIFY ? 'predictions' : 'segmentations', adding: request.imageIds.length },
    };
  }

  /**
   * Records the job within the monthly quota of its kind (predictions, segmentations). The quota counts the
   * images of this user's jobs of that kind still queued or running, so concurrent calls see each other's rows and
   * a burst cannot overrun it. The user's lock on that quota, the check and the job's row go in one round trip
   * (one implicit transaction, quotaGuard): the check is a statement of its own, taken once the lock is granted,
   * so it sees every job a concurrent call recorded and committed under the same lock, and a refusal commits nothing.
   */
  private async insertJobWithinQuota(em: EntityManager, { job, insert, quota }: JobRecord): Promise<InferenceJob> {
    const guard = quotaGuard(this.deps.config, job.owner.id, [quota]);
    await executeBatch(em, [...guard.statements, insert]).catch(guard.rethrow);
    return job;
  }

  /**
   * Records and queues a job of another module's kind (REPORT). Its request names its images
   * (`imageIds`): a job is visible to its owner while they may read every one of them, as any job.
   */
  async submitJob(
    em: EntityManager,
    user: Caller,
    kind: JobKind,
    request: { imageIds: string[] } & Record<string, unknown>,
  ): Promise<InferenceJob> {
    return this.enqueue(em, await this.insertJob(em, user, kind, request as unknown as JobRequest));
  }

  private async insertJob(em: EntityManager, user: Caller, kind: JobKind, request: JobRequest): Promise<InferenceJob> {
    const job = this.newJob(em, user, kind, request);
    await this.deps.jobs.insert(em, job, user.id);
    return job;
  }

  /**
   * The job as it is recorded. The class gives the defaults; the row goes in as one plain statement (no
   * change set, no identity map, no query builder: nothing in this request reads the job back through the
   * ORM, and the ORM's insert cost several times the statement on every inference request).
   */
  private newJob(em: EntityManager, user: Caller, kind: JobKind, request: JobRequest): InferenceJob {
    return Object.assign(new InferenceJob(), {
      owner: em.getReference(User, user.id),
      kind,
      // The request's id travels with the job: whichever process runs it logs and audits under it.
      request: { ...request, requestId: currentRequestId() } as unknown as Record<string, unknown>,
      total: request.imageIds.length,
    });
  }

  /**
   * Announces and queues a recorded job; a queue that refuses it leaves the job FAILED, not dangling.
   * The announcement is inside too: with Redis down it fails first, and the row stayed QUEUED for good.
   */
  async enqueue(em: EntityManager, job: InferenceJob): Promise<InferenceJob> {
    try {
      await this.deps.progress.publish({
        jobId: job.id,
        stage: 'queued',
        status: JobStatus.QUEUED,
        progress: 0,
        attempt: 0,
        imageCount: job.total,
      });
      await this.deps.queue.enqueue(job.id);
    } catch (e) {
      Object.assign(job, { status: JobStatus.FAILED, stage: 'failed', error: 'the job could not be queued' });
      await this.deps.jobs.failUnqueued(em, job.id, job.error!);
      throw e;
    }
    return job;
  }

  /**
   * The job, when the caller is an admin, or owns it and may still see the patient of every one of
   * its images (a share taken back hides the job too); null otherwise, with no hint that it exists.
   * One statement.
   */
  async findJob(em: EntityManager, user: Caller, id: string): Promise<InferenceJob | null> {
    if (!isUuid(id)) return null;
    if (isAdmin(user)) return this.deps.jobs.find(em, id);
    const visible = visiblePatientIdSql(user, 'ji.patient_id');
    if (!visible) return null;
    return this.deps.jobs.find(em, id, { ownerId: user.id, visible });
  }

  /** A prediction whose patient the caller may see now (admin, owner, current sharee), whoever asked for it; else null. */
  async findPrediction(em: EntityManager, user: Caller, id: string): Promise<Prediction | null> {
    return (await findAccessible(em, user, 'prediction:read', [id]))[0];
  }

  /** A segmentation, under the same rule as findPrediction. */
  async findSegmentation(em: EntityManager, user: Caller, id: string): Promise<Segmentation | null> {
    return (await findAccessible(em, user, 'segmentation:read', [id]))[0];
  }

  /**
   * Every event of a job the caller may read, in order, ending with done / failed. Not a generator:
   * closing it (return()) releases the progress subscription at once (closableStream).
   */
  progress(em: EntityManager, user: Caller, jobId: string): AsyncIterableIterator<ProgressEvent> {
    return closableStream(() => this.openProgress(em, user, jobId));
  }

  private async openProgress(em: EntityManager, user: Caller, jobId: string): Promise<AsyncIterator<ProgressEvent>> {
    const job = await this.findJob(em, user, jobId);
    if (!job) throw notFound('Job');
    const finished = isFinishedJobStatus(job.status);
    if (finished && (await this.deps.progress.history(jobId)).length === 0) {
      // The event log (kept an hour) has expired: the job's end is all there is to tell.
      const end: ProgressEvent = {
        jobId,
        seq: 1,
        at: (job.finishedAt ?? job.updatedAt).toISOString(),
        stage:
          job.status === JobStatus.SUCCEEDED ? 'done' : job.status === JobStatus.CANCELLED ? 'cancelled' : 'failed',
        status: job.status,
        progress: job.progress,
        attempt: job.attempts,
        imageCount: job.total,
        message: job.error ?? null,
      };
      return (async function* () {
        yield end;
      })();
    }
    return this.deps.progress.stream(jobId);
  }
}
