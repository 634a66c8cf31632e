import type { InferenceJob, Image } from '../../../entities';
import { badInput } from '../../../infra/errors';
import { discardUploaded, displayedSize, uploadImages, type IncomingFile, type UploadDeps } from '../../images';
import type { Caller } from '../../patients';
import {
  MAX_IMAGES_PER_JOB,
  type ClassifyArgs,
  type ClassifyPlan,
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
 * - once the images are stored, each job is recorded with its exact quota check; a refusal then
 *   (a concurrent request took the last of the quota) removes the jobs recorded and the images
 *   just stored, and answers the refusal: again nothing stays.
 * Only then are the jobs queued. A queue that fails at that point (Redis down) leaves the images
 * stored and the job FAILED ("the job could not be queued"), and the call answers the queue's error.
 */
export async function uploadAndQueue(
  deps: UploadDeps & { jobs: JobService },
  user: Caller,
  input: UploadAndQueueInput,
  opts: { afterUpload?: () => Promise<void> } = {},
): Promise<{ images: Image[]; jobs: InferenceJob[] }> {
  const { em, jobs: service } = deps;
  const count = input.files.length;
  const plan: { classify: ClassifyPlan | null; segment: SegmentPlan | null } = { classify: null, segment: null };
  let decoder: ReturnType<JobService['uploadDecoder']> = null;
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
      // Early answers, with the upload's; checked again, exactly, when each job is recorded.
      return [
        ...(plan.classify ? [{ kind: 'predictions' as const, adding: count }] : []),
        ...(plan.segment ? [{ kind: 'segmentations' as const, adding: count }] : []),
      ];
    },
    // The classification's preprocessing done by the upload's own decode (see uploadDecoder).
    decode: async (source, sha256, info) => {
      if (!decoder) return false;
      await decoder(source, sha256, displayedSize(info));
      return true;
    },
  });
  await opts.afterUpload?.(); // test seam: the images are stored, no job is recorded yet
  const refs = images.map((i) => ({ id: i.id, sha256: i.sha256, patientId: i.patient.id }));
  const recorded: InferenceJob[] = [];
  try {
    if (plan.classify) recorded.push(await service.recordClassify(em, user, refs, plan.classify));
    if (plan.segment) recorded.push(await service.recordSegment(em, user, refs, plan.segment));
  } catch (err) {
    for (const job of recorded) await service.discardRecorded(em, job);
    await discardUploaded(deps, images);
    throw err;
  }
  for (const job of recorded) await service.enqueue(em, job);
  return { images, jobs: recorded };
}
