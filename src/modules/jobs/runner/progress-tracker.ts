import { JobStatus } from '../../../entities/inference-job';
import type { Stage } from '../progress';

/** Share of one image's progress reached at each stage. */
export const STAGE_SHARE: Record<string, number> = {
  preprocessing: 0.1,
  model: 0.6,
  ensembling: 0.7,
  metrics: 0.8,
  gradcam: 0.9,
  persisted: 1,
};

/** The job status an event of `stage` announces. */
export function statusAt(stage: Stage): JobStatus {
  if (stage === 'done') return JobStatus.SUCCEEDED;
  if (stage === 'failed') return JobStatus.FAILED;
  if (stage === 'cancelled') return JobStatus.CANCELLED;
  return stage === 'queued' ? JobStatus.QUEUED : JobStatus.RUNNING;
}

/**
 * Job-level progress in 0..1 that never goes back: images finished plus the share of the stage
 * an image in flight has reached (images of a batch run a few at a time and overlap).
 */
export class ProgressTracker {
  private max = 0;
  constructor(
    private readonly total: number,
    private finished: number,
  ) {}

  progress(stageShare: number): number {
    this.max = Math.max(this.max, Math.min(1, (this.finished + stageShare) / this.total));
    return this.max;
  }

  finishImage(): number {
    this.finished += 1;
    return this.progress(0);
  }
}
