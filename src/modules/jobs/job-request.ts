import type { MemberSpec } from './runner/members';

/** An image as a job needs it: its stored file and its patient (so results follow patient access). */
export interface ImageRef {
  id: string;
  sha256: string;
  patientId: string;
}

/** What a job's `request` column holds (validated and resolved by the api before enqueueing). */
export interface JobRequest {
  imageIds: string[];
  members: MemberSpec[];
  /** CLASSIFY */
  explain?: boolean;
  targetLabel?: string | null;
  /** CLASSIFY: the named ensemble the members came from (null: `models` or a single default model). */
  ensemble?: string | null;
  /** SEGMENT */
  threshold?: number;
  /** Each image's stored file and patient, as the api found them (absent in rows from before). */
  images?: ImageRef[];
  /** SEGMENT: image id -> id of the image holding its ground-truth mask. */
  truth?: Record<string, string>;
  /** The request that queued it (x-request-id): the runner's log lines and audit rows carry it. */
  requestId?: string;
}
