import { AppError, type ErrorCode } from '../../../infra/errors';
/**
 * The job queue between the api (which enqueues) and whatever runs inference (this process in
 * embedded mode, `dermagraph worker` processes with Redis). A queue entry is only a job id: the
 * job's request lives in its InferenceJob row, so every runner sees the same input.
 */
export interface JobAttempt {
  jobId: string;
  /** 1 for the first try; retries and stalled-job takeovers count up. */
  attempt: number;
  /** True when this is the last try the queue will make (a failure then is final). */
  final: boolean;
}

export type JobHandler = (attempt: JobAttempt) => Promise<void>;

export interface JobQueue {
  readonly kind: 'memory' | 'bullmq';
  /** Adds a job; resolves once it is durably queued. */
  enqueue(jobId: string): Promise<void>;
  /**
   * Takes a job out of the queue if it is waiting there (not started, or waiting for a retry):
   * cancelJob's part. True when it was removed; false when it was not there or is running now (a
   * runner then learns of the cancel itself, and a queue entry left behind is a no-op when claimed).
   */
  remove(jobId: string): Promise<boolean>;
  /** Jobs waiting (not yet started), for the queue-depth gauge. */
  depth(): Promise<number>;
  /** Stops taking new jobs and waits for running ones (up to `timeoutMs`), then closes. */
  close(timeoutMs?: number): Promise<void>;
}

/** The side that runs jobs (in-process queue, or a BullMQ worker). */
export interface JobConsumer {
  close(timeoutMs?: number): Promise<void>;
}

export interface RetryPolicy {
  /** Tries in all (first run included). */
  attempts: number;
  /** Exponential backoff: delay before try n+1 is baseDelayMs * 2^(n-1). */
  baseDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 500 };

/** Delay before the next try after `attempt` failed (attempt counts from 1). */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  return policy.baseDelayMs * 2 ** Math.max(0, attempt - 1);
}

/**
 * A failure that retrying cannot fix (bad input, model gone, image deleted): the queue ends the
 * job at once instead of trying again.
 */
export class PermanentJobError extends AppError {
  constructor(message: string, code: ErrorCode = 'BAD_USER_INPUT') {
    super(code, message);
    this.name = 'PermanentJobError';
  }
}
