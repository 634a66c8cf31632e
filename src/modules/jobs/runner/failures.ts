import { errorCodeOf, type AppError, type ErrorCode } from '../../../infra/errors';
import { PermanentJobError } from '../queue/queue';
import type { Stage } from '../progress';

/** A failure's client-safe reason and its code (MODEL_UNAVAILABLE, NOT_FOUND, BAD_USER_INPUT, INTERNAL_SERVER_ERROR). */
export function failureReason(err: unknown): { code: ErrorCode; message: string } {
  const code = errorCodeOf(err);
  const known = code === 'MODEL_UNAVAILABLE' || code === 'NOT_FOUND' || code === 'BAD_USER_INPUT';
  // Internal details (paths, SQL, stack) stay in the server log; the client gets a stable reason.
  return known
    ? { code, message: (err as AppError).message }
    : { code: 'INTERNAL_SERVER_ERROR', message: 'internal error while running the job' };
}

/** What a failed attempt means for its job. */
export interface AttemptFailure {
  reason: { code: ErrorCode; message: string };
  /** Retrying cannot help (a known client-safe failure, or a PermanentJobError). */
  permanent: boolean;
  /** The job ends FAILED now (permanent, or the queue's last try); otherwise it is queued again. */
  ends: boolean;
  /** What the job row's `error` says. */
  error: string;
  /** The progress event announcing it. */
  event: { stage: Stage; message: string };
}

export function attemptFailure(err: unknown, attempt: number, final: boolean): AttemptFailure {
  const reason = failureReason(err);
  const permanent = err instanceof PermanentJobError || reason.code !== 'INTERNAL_SERVER_ERROR';
  const ends = final || permanent;
  return {
    reason,
    permanent,
    ends,
    error: ends ? `${reason.code}: ${reason.message} (attempt ${attempt})` : reason.message,
    event: ends
      ? { stage: 'failed', message: reason.message }
      : { stage: 'queued', message: `attempt ${attempt} failed (${reason.message}); retrying` },
  };
}
