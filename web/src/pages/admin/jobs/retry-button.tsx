// Retry for one FAILED job (retryJob): the API's refusal reads next to the button, e.g. a job that no longer failed.
import type { ReactNode } from 'react';
import { useMutation } from 'urql';
import { Button, apiErrors } from '../../../ui';
import { RetryJobMutation } from '../operations';

export function RetryButton({ jobId, onRetried }: { jobId: string; onRetried(): void }): ReactNode {
  const [{ fetching, error }, retry] = useMutation(RetryJobMutation);
  const refusal = apiErrors(error)[0];
  const run = async () => {
    const r = await retry({ id: jobId });
    if (!r.error) onRetried();
  };
  return (
    <span className="admin-job-retry">
      <Button onClick={run} busy={fetching} aria-label={`Retry job ${jobId}`}>
        Retry
      </Button>
      {refusal ? (
        <span className="field-error" role="alert">
          {refusal.message}
          {refusal.reason ? ` (${refusal.reason})` : refusal.code ? ` (${refusal.code})` : ''}
        </span>
      ) : null}
    </span>
  );
}
