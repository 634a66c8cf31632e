import type { InferenceJob, Image } from '../../../entities';
import { badInput } from '../../../infra/errors';
import { displayedSize, uploadImages, type IncomingFile, type UploadDeps } from '../../images';
import type { Caller } from '../../patients';
import type { WaitedResults } from '../runner/waited-results';
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
 *   checks and before a byte of any file is read, so a refusal there stores nothing;
 * - each job's row is recorded in the images' own transaction, its quota checked again, exactly,
 *   under the quota's lock with the upload's: a concurrent request that took the last of the quota
 *   meanwhile makes the whole upload refused, and nothing stays.
 * Only then are the jobs queued. A queue that fails at that point (Redis down) leaves the images
 * stored and the job FAILED ("the job could not be queued"), and the call answers the queue's error.
 */
export async function uploadAndQueue(
  deps: UploadDeps & { jobs: JobService },
  user: Caller,
  input: UploadAndQueueInput,
  opts: {
    beforeTransaction?: () => Promise<void>;
    /** The caller waits on the jobs in this process: their predictions are kept for it as they land. */
    waited?: WaitedResults;
  } = {},
): Promise<{ images: Image[]; jobs: InferenceJob[] }> {
  const { em, jobs: service } = deps;
  const count = input.files.length;
  const plan: { classify: ClassifyPlan | null; segment: SegmentPlan | null } = { classify: null, segment: null };
  let decoder: ReturnType<JobService['uploadDecoder']> = null;
  const records: JobRecord[] = [];
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
    },
    asks: [
      ...(input.classify ? [{ kind: 'predictions' as const, adding: count }] : []),
      ...(input.segment ? [{ kind: 'segmentations' as const, adding: count }] : []),
    ],
    // The classification's preprocessing done by the upload's own decode (see uploadDecoder).
    decode: async (source, sha256, info) => {
      if (!decoder) return false;
      await decoder(source, sha256, displayedSize(info));
      return true;
    },
    recordWith: (rows) => {
      const refs = rows.map((r) => ({ id: r.id, sha256: r.sha256, patientId: r.patientId }));
      if (plan.classify) records.push(service.classifyRecord(em, user, refs, plan.classify));
      if (plan.segment) records.push(service.segmentRecord(em, user, refs, plan.segment));
      return records.map((r) => r.insert);
    },
    beforeTransaction: opts.beforeTransaction,
  });
  // Said before any job is queued, so no prediction can land unkept; forgotten again if queueing fails.
  for (const { job } of records) opts.waited?.expect(job.id);
  const jobs: InferenceJob[] = [];
  try {
    for (const { job } of records) jobs.push(await service.enqueue(em, job));
  } catch (e) {
    for (const { job } of records) opts.waited?.take(job.id);
    throw e;
  }
  return { images, jobs };
}
