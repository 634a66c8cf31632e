// Jobs (admins): every user's classification, segmentation and report jobs (allJobs), narrowed by status (FAILED
// first, since those are the ones to act on), with each failure's reason and a Retry (retryJob) for the failed ones.
import { useState, type ReactNode } from 'react';
import { useQuery } from 'urql';
import {
  Button,
  ErrorMessage,
  Notice,
  PageTitle,
  ProgressBar,
  SelectField,
  Table,
  apiErrors,
  formatDateTime,
  type Column,
} from '../../../ui';
import type { AdminAllJobsQuery, JobStatus } from '../../../gql/graphql';
import { AllJobsQuery, JobOwnerQuery } from '../operations';
import { countOf } from '../system/units';
import { RetryButton } from './retry-button';
import '../admin.css';

type Job = NonNullable<AdminAllJobsQuery['allJobs']>['edges'][number]['node'];

const STATUSES: JobStatus[] = ['FAILED', 'QUEUED', 'RUNNING', 'SUCCEEDED', 'CANCELLED'] as JobStatus[];
const PAGE = 50;

function Owner({ id }: { id: string }): ReactNode {
  const [{ data }] = useQuery({ query: JobOwnerQuery, variables: { id } });
  const node = data?.node;
  return node && 'email' in node ? node.email : <span className="muted">{id}</span>;
}

const columns = (onRetried: (id: string) => void): Column<Job>[] => [
  { header: 'Owner', cell: (j) => <Owner id={j.ownerId} /> },
  { header: 'Kind', cell: (j) => `${j.kind.toLowerCase()}, ${countOf(j.imageCount, 'image')}` },
  {
    header: 'Status',
    cell: (j) => (
      <span className={`admin-status admin-status-${j.status.toLowerCase()}`}>{j.status.toLowerCase()}</span>
    ),
  },
  { header: 'Error', cell: (j) => j.error ?? <span className="muted">—</span> },
  { header: 'Attempts', numeric: true, cell: (j) => j.attempts },
  { header: 'Created', cell: (j) => formatDateTime(j.createdAt) },
  { header: 'Finished', cell: (j) => formatDateTime(j.finishedAt) },
  {
    header: 'Action',
    cell: (j) =>
      j.status === 'FAILED' && j.kind !== 'REPORT' ? (
        <RetryButton jobId={j.id} onRetried={() => onRetried(j.id)} />
      ) : (
        <span className="muted">—</span>
      ),
  },
];

export function JobsPage(): ReactNode {
  const [status, setStatus] = useState<JobStatus | ''>('FAILED');
  const [retried, setRetried] = useState<string>();
  const [{ data, fetching, error }, refetch] = useQuery({
    query: AllJobsQuery,
    variables: { status: status ? [status] : undefined, first: PAGE },
    requestPolicy: 'cache-and-network',
  });
  const jobs = data?.allJobs;
  const onRetried = (id: string) => {
    setRetried(id);
    refetch({ requestPolicy: 'network-only' });
  };
  return (
    <section className="page admin">
      <PageTitle
        actions={
          <Button onClick={() => refetch({ requestPolicy: 'network-only' })} busy={fetching}>
            Refresh
          </Button>
        }
      >
        Jobs
      </PageTitle>
      <form className="admin-filters" role="search" aria-label="Filter the jobs" onSubmit={(e) => e.preventDefault()}>
        <SelectField label="Status" value={status} onChange={(e) => setStatus(e.target.value as JobStatus | '')}>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s.toLowerCase()}
            </option>
          ))}
          <option value="">any status</option>
        </SelectField>
      </form>
      <ErrorMessage errors={apiErrors(error)} />
      {retried ? <Notice tone="success">Job {retried} queued again.</Notice> : null}
      {fetching && !jobs ? <ProgressBar label="Reading the jobs" /> : null}
      {jobs ? (
        <>
          <p>
            {countOf(jobs.totalCount, 'job')}, newest first
            {jobs.pageInfo.hasNextPage ? ` (the first ${PAGE} shown)` : ''}.
          </p>
          <Table
            caption="Jobs"
            hideCaption
            columns={columns(onRetried)}
            rows={jobs.edges.map((e) => e.node)}
            rowKey={(j) => j.id}
            empty="No job has this status."
          />
        </>
      ) : null}
    </section>
  );
}
