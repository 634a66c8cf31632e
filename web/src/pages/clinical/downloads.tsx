// Downloads: the PDF report of an image, the CSV of results, the masks or one PDF per image as ZIPs
// (generateReport). A small report comes back DONE with its signed URL; a larger one runs as a REPORT job, whose
// progress (Report.progress) the button shows until it is DONE or FAILED. Then the file downloads.
import { useState, type ReactNode } from 'react';
import { useClient, useMutation } from 'urql';
import { graphql } from '../../gql';
import type { ReportInput, ReportKind } from '../../gql/graphql';
import { Button, ErrorMessage, ProgressBar, apiErrors, formatBytes, type ApiError } from '../../ui';
import { sameOrigin } from './urls';

const GenerateReport = graphql(`
  mutation ClinicalGenerateReport($input: ReportInput!) {
    generateReport(input: $input, wait: false) {
      id
      status
      progress
      url
      fileName
      bytes
      error
    }
  }
`);

const ReportStatus = graphql(`
  query ClinicalReport($id: ID!) {
    report(id: $id) {
      id
      status
      progress
      url
      fileName
      bytes
      error
    }
  }
`);

const LABEL: Record<ReportKind, string> = {
  PDF: 'PDF report',
  CSV: 'CSV of results',
  MASKS_ZIP: 'masks (ZIP)',
  PDFS_ZIP: 'PDF per image (ZIP)',
};

/** What the report covers: images, a patient, a lesion or a job. */
export type Scope = Omit<ReportInput, 'kind'>;

interface Ready {
  url: string;
  fileName: string;
  bytes?: number | null;
}

/** Opens the signed URL as a download: a click on a link (the CSP allows it; the route answers as an attachment). */
function save(ready: Ready): void {
  const a = document.createElement('a');
  a.href = ready.url;
  a.download = ready.fileName;
  document.body.append(a);
  a.click();
  a.remove();
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function DownloadButton({ input, kind }: { input: Scope; kind: ReportKind }): ReactNode {
  const client = useClient();
  const [, generate] = useMutation(GenerateReport);
  const [progress, setProgress] = useState<number | null>(null);
  const [errors, setErrors] = useState<ApiError[]>([]);
  const [ready, setReady] = useState<Ready | null>(null);

  async function start(): Promise<void> {
    setProgress(0);
    setErrors([]);
    setReady(null);
    try {
      const res = await generate({ input: { ...input, kind } });
      let report = res.data?.generateReport;
      if (!report) return setErrors(apiErrors(res.error));
      // A REPORT job: follow its progress until it ends.
      while (report.status === 'PENDING' || report.status === 'RUNNING') {
        setProgress(report.progress);
        await sleep(750);
        const next = await client.query(ReportStatus, { id: report.id }, { requestPolicy: 'network-only' }).toPromise();
        if (!next.data?.report)
          return setErrors(next.error ? apiErrors(next.error) : [{ message: 'The report is gone' }]);
        report = next.data.report;
      }
      if (report.status !== 'DONE' || !report.url) {
        return setErrors([{ message: report.error ?? 'The report could not be made' }]);
      }
      const done = { url: sameOrigin(report.url), fileName: report.fileName, bytes: report.bytes };
      setReady(done);
      save(done);
    } finally {
      setProgress(null);
    }
  }

  return (
    <li data-kind={kind}>
      <Button busy={progress !== null} onClick={() => void start()}>
        Download {LABEL[kind]}
      </Button>
      {progress !== null ? <ProgressBar label={`Preparing the ${LABEL[kind]}`} value={progress || undefined} /> : null}
      {ready ? (
        <a href={ready.url} download={ready.fileName}>
          Save {ready.fileName}
          {ready.bytes ? ` (${formatBytes(ready.bytes)})` : ''}
        </a>
      ) : null}
      <ErrorMessage errors={errors} />
    </li>
  );
}

export function Downloads(props: { input: Scope; kinds: ReportKind[]; title?: string }): ReactNode {
  return (
    <section aria-labelledby="downloads-heading" className="clinical-panel">
      <h2 id="downloads-heading">{props.title ?? 'Downloads'}</h2>
      <ul className="clinical-downloads">
        {props.kinds.map((k) => (
          <DownloadButton key={k} input={props.input} kind={k} />
        ))}
      </ul>
    </section>
  );
}
