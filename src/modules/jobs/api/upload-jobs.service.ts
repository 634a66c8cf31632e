import type { InferenceJob, Image } from '../../../entities';
import { badInput } from '../../../infra/errors';
import { displayedSize, uploadImages, type IncomingFile, type UploadDeps } from '../../images';
import type { Caller } from '../../patients';
import type { WaitedResults } from '../runner/waited-results';
import type { InRequestClassification, InRequestClassifier } from '../runner/in-request';
import type { Statement } from '../../../infra/database/sql';
import {
  MAX_IMAGES_PER_JOB,
  type ClassifyArgs,
  type ClassifyPlan,
  type JobRecord,
  type JobService,
  type MemberInput,
  type SegmentPlan,
} from './jobs.service';

export interface UploadAndQueueInput {
  patientId: string;
  lesionId?: string | null;
  files: Promise<IncomingFile>[];
  /** Classify the uploaded images (one job over all of them). */
  classify?: ClassifyArgs | null;
  /** Segment the uploaded images (one job over all of them). */
  segment?: { members: MemberInput[]; threshold?: number | null } | null;
}

/**
 * uploadImages with its follow-up jobs. Nothing is stored unless everything is accepted:
 * - the classify / segment options (models, targetClass, members, threshold, at most
 *   MAX_IMAGES_PER_JOB images) and their monthly quotas are checked after the access and upload
 *   checks and before any file is written or decoded, so a refusal there stores nothing;
 * - each job's row is recorded in the images' own transaction, its quota checked again, exactly,
 *   under the quota's lock with the upload's: a concurrent request that took the last of the quota
 *   meanwhile makes the whole upload refused, and nothing stays.
 * Only then are the jobs queued. A queue that fails at that point (Redis down) leaves the images
 * stored and the job FAILED ("the job could not be queued"), and the call answers the queue's error.
 *
 * With `inRequest` (the caller waits, and this process runs the jobs) a classification without a
 * segmentation runs in the request instead, between the decode and the transaction, and its job is
 * recorded finished with its predictions in the images' commit (InRequestClassifier); when that
 * cannot be done it is queued as above.
 */
export async function uploadAndQueue(
  deps: UploadDeps & { jobs: JobService },
  user: Caller,
  input: UploadAndQueueInput,
  opts: {
    beforeTransaction?: () => Promise<void>;
    /** The caller waits on the jobs in this process: their predictions are kept for it as they land. */
    waited?: WaitedResults;
    /** The caller waits until `deadline` (epoch ms) in a process that runs the jobs: classify in the request. */
    inRequest?: { classifier: InRequestClassifier; deadline: number };
  } = {},
): Promise<{ images: Image[]; jobs: InferenceJob[] }> {
  const { em, jobs: service } = deps;
  const count = input.files.length;
  const plan: { classify: ClassifyPlan | null; segment: SegmentPlan | null } = { classify: null, segment: null };
  let decoder: ReturnType<JobService['uploadDecoder']> = null;
  // The classification in the request, its results once settled and its job once recorded finished.
  const fused: {
    run: InRequestClassification | null;
    classified: Awaited<ReturnType<InRequestClassification['settle']>>;
    job: InferenceJob | null;
  } = { run: null, classified: null, job: null };
  const records: JobRecord[] = [];
  try {
    const images = await uploadImages(deps, user, input, {
      beforeFiles: async () => {
        if ((input.classify || input.segment) && count > MAX_IMAGES_PER_JOB) {
          throw badInput('files', `at most ${MAX_IMAGES_PER_JOB} images per job, got ${count}`, {
            max: MAX_IMAGES_PER_JOB,
          });
        }
        plan.classify = input.classify ? await service.classifyPlan(em, input.classify, 'classify.') : null;
        plan.segment = input.segment ? service.segmentPlan(input.segment, 'segment.') : null;
        decoder = plan.classify ? service.uploadDecoder(plan.classify) : null;
        if (opts.inRequest && plan.classify && !plan.segment && decoder)
          fused.run = opts.inRequest.classifier.begin(plan.classify, opts.inRequest.deadline);
      },
      asks: [
        ...(input.classify ? [{ kind: 'predictions' as const, adding: count }] : []),
        ...(input.segment ? [{ kind: 'segmentations' as const, adding: count }] : []),
      ],
      // The classification's preprocessing done by the upload's own decode (see uploadDecoder); in the
      // request, the classification itself starts as soon as its image is decoded.
      decode: async (source, sha256, info) => {
        if (!decoder) return false;
        await decoder(source, sha256, displayedSize(info), deps.config.UPLOAD_MAX_PIXELS);
        fused.run?.add(sha256, source);
        return true;
      },
      beforeTransaction: async () => {
        // Before any lock is taken: the transaction does not wait on the models.
        if (fused.run) fused.classified = await fused.run.settle();
        await opts.beforeTransaction?.();
      },
      recordWith: (rows) => {
        const refs = rows.map((r) => ({ id: r.id, sha256: r.sha256, patientId: r.patientId }));
        const statements: Statement[] = [];
        if (plan.classify) {
          const record = service.classifyRecord(em, user, refs, plan.classify);
          if (fused.run && fused.classified) {
            fused.job = record.job;
            statements.push(...fused.run.record(em, record.job, user.id, refs, fused.classified));
          } else {
            records.push(record);
            statements.push(record.insert);
          }
        }
        if (plan.segment) {
          const record = service.segmentRecord(em, user, refs, plan.segment);
          records.push(record);
          statements.push(record.insert);
        }
        return statements;
      },
    });
    const jobs: InferenceJob[] = [];
    if (fused.job && fused.run) {
      opts.waited?.expect(fused.job.id);
      opts.waited?.landed(fused.job.id, fused.run.rows(em));
      jobs.push(fused.job);
      await fused.run.announce();
    }
    // Said before any job is queued, so no prediction can land unkept; forgotten again if queueing fails.
    for (const { job } of records) opts.waited?.expect(job.id);
    try {
      for (const { job } of records) jobs.push(await service.enqueue(em, job));
    } catch (e) {
      for (const { job } of records) opts.waited?.take(job.id);
      throw e;
    }
    return { images, jobs };
  } finally {
    fused.run?.release();
  }
}
