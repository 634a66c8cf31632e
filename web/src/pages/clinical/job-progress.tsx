// A job's progress, live: the inferenceProgress subscription (events before it started are replayed) drawn
// as one progress bar and the list of stages as they arrive, in seq order, de-duplicated by seq.
import { useEffect, useRef, type ReactNode } from 'react';
import { useMutation, useSubscription } from 'urql';
import { Button, ErrorMessage, ProgressBar, apiErrors } from '../../ui';
import { CancelJobMutation, ProgressSubscription } from './inference-operations';
import type { ClinicalProgressSubscription } from '../../gql/graphql';

export type ProgressEvent = ClinicalProgressSubscription['inferenceProgress'];

const FINAL = new Set(['DONE', 'FAILED', 'CANCELLED']);

const STAGE: Record<string, string> = {
  QUEUED: 'Queued',
  PREPROCESSING: 'Preprocessing',
  MODEL: 'Model ran',
  ENSEMBLING: 'Ensembling',
  METRICS: 'Measuring the mask',
  GRADCAM: 'Grad-CAM map ready',
  PERSISTED: 'Result stored',
  DONE: 'Done',
  FAILED: 'Failed',
  CANCELLED: 'Cancelled',
};

const device = (d?: { kind: string; index?: number | null } | null): string =>
  d ? `${d.kind.toLowerCase()}${d.index != null ? `:${d.index}` : ''}` : '';

function detail(e: ProgressEvent): string {
  const parts: string[] = [];
  if (e.imageIndex != null) parts.push(`image ${e.imageIndex + 1} of ${e.imageCount}`);
  if (e.model) parts.push(`${e.model}${e.version ? `@${e.version}` : ''}`);
  if (e.device) {
    const asked = device(e.requestedDevice);
    const ran = device(e.device);
    parts.push(asked && asked !== ran ? `on ${ran} (asked for ${asked})` : `on ${ran}`);
  }
  if (e.fallbackReason) parts.push(`fallback: ${e.fallbackReason}`);
  if (e.message) parts.push(e.message);
  return parts.join(' · ');
}

/** Events so far, merged by seq (a replay after a reconnect repeats some). */
function merge(prev: ProgressEvent[] | undefined, next: ProgressEvent): ProgressEvent[] {
  const list = prev ?? [];
  if (list.some((e) => e.seq === next.seq)) return list;
  return [...list, next].sort((a, b) => a.seq - b.seq);
}

export function JobProgress(props: {
  jobId: string;
  label: string;
  onFinished?: (last: ProgressEvent, events: ProgressEvent[]) => void;
}): ReactNode {
  const [{ data: events, error }] = useSubscription(
    { query: ProgressSubscription, variables: { jobId: props.jobId } },
    (prev: ProgressEvent[] | undefined, res: ClinicalProgressSubscription) => merge(prev, res.inferenceProgress),
  );
  const last = events?.at(-1);
  const finished = last && FINAL.has(last.stage) ? last : undefined;
  const [cancel, runCancel] = useMutation(CancelJobMutation);
  const reported = useRef(false);
  const onFinished = props.onFinished;
  useEffect(() => {
    if (finished && events && !reported.current) {
      reported.current = true;
      onFinished?.(finished, events);
    }
  }, [finished, events, onFinished]);

  return (
    <div className="clinical-job" data-job-id={props.jobId}>
      <ProgressBar
        label={props.label}
        value={last ? last.progress : undefined}
        detail={last ? `${STAGE[last.stage] ?? last.stage} · ${Math.round(last.progress * 100)}%` : 'Starting…'}
      />
      {/* Scrolls when long: focusable so the keyboard can scroll it too. */}
      <ol className="clinical-stages" aria-label={`${props.label}: stages`} aria-live="polite" tabIndex={0}>
        {(events ?? []).map((e) => (
          <li key={e.seq} data-stage={e.stage} className={e.stage === 'FAILED' ? 'clinical-failed' : undefined}>
            <span className="clinical-stage">{STAGE[e.stage] ?? e.stage}</span>
            <span className="clinical-muted">{detail(e)}</span>
          </li>
        ))}
      </ol>
      {finished ? null : (
        <div className="clinical-actions">
          <Button variant="quiet" busy={cancel.fetching} onClick={() => void runCancel({ id: props.jobId })}>
            Cancel {props.label.toLowerCase()}
          </Button>
          <ErrorMessage errors={apiErrors(cancel.error)} />
        </div>
      )}
      <ErrorMessage errors={apiErrors(error)} />
      {finished?.stage === 'FAILED' ? <ErrorMessage errors={[finished.message ?? `${props.label} failed`]} /> : null}
    </div>
  );
}
