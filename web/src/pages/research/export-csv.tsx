// CSV export: asks for a signed, expiring link to every row the filter matches (exportLesionMetricsCsv) and opens
// it, which downloads the file (the server sends it as an attachment). The link stays offered until it expires.
import { useState, type ReactNode } from 'react';
import { useMutation } from 'urql';
import { Button, apiErrors, formatDateTime } from '../../ui';
import type { MetricsFilter } from '../../gql/graphql';
import { ExportLesionMetricsCsvMutation } from './operations';

export function ExportCsv({ filter }: { filter: MetricsFilter }): ReactNode {
  const [{ fetching, error }, mint] = useMutation(ExportLesionMetricsCsvMutation);
  const [link, setLink] = useState<{ url: string; expiresAt: string } | null>(null);
  const message = apiErrors(error)[0]?.message;
  const run = async () => {
    setLink(null);
    const r = await mint({ filter });
    const download = r.data?.exportLesionMetricsCsv;
    if (!download) return;
    setLink(download);
    window.location.assign(download.url);
  };
  return (
    <div className="research-export">
      <Button variant="primary" busy={fetching} onClick={() => void run()}>
        Export CSV
      </Button>
      {fetching ? (
        <span className="research-muted" role="status">
          Preparing the export link…
        </span>
      ) : null}
      {link ? (
        <span role="status">
          Your download has started.{' '}
          <a href={link.url} download>
            Download the CSV again
          </a>{' '}
          (the link works until {formatDateTime(link.expiresAt)}).
        </span>
      ) : null}
      {message ? (
        <p className="field-error" role="alert">
          {message}
        </p>
      ) : null}
    </div>
  );
}
