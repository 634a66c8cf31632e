// Patients: the caller's own and shared records, newest first, searched by name or external ID. The search
// lives in the URL (?q=) so a list can be bookmarked and the back button restores it.
import { useEffect, useState, type ReactNode } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useQuery } from 'urql';
import {
  Button,
  ErrorMessage,
  Field,
  PageTitle,
  ProgressBar,
  Table,
  apiErrors,
  formatDate,
  formatPercent,
} from '../../ui';
import { PatientsQuery } from './operations';
import { markIndeterminate } from './prediction-flags';
import type { ClinicalPatientsQuery } from '../../gql/graphql';

type Row = NonNullable<ClinicalPatientsQuery['patients']>['edges'][number]['node'];

const PAGE = 20;

const COLUMNS = [
  {
    header: 'Name',
    cell: (p: Row) => (
      <>
        <Link to={`/patients/${encodeURIComponent(p.id)}`}>{p.displayName}</Link>
        {p.archived ? <span className="clinical-badge">archived</span> : null}
      </>
    ),
  },
  { header: 'External ID', cell: (p: Row) => p.externalId },
  { header: 'Date of birth', cell: (p: Row) => p.dateOfBirth ?? '—' },
  { header: 'Images', cell: (p: Row) => p.imageCount, numeric: true },
  {
    header: 'Latest prediction',
    cell: (p: Row) =>
      p.latestPrediction
        ? markIndeterminate(
            p.latestPrediction,
            `${p.latestPrediction.label} (${formatPercent(p.latestPrediction.confidence)})`,
          )
        : '—',
  },
  { header: 'Created', cell: (p: Row) => formatDate(p.createdAt) },
];

export function PatientsListPage(): ReactNode {
  const [params, setParams] = useSearchParams();
  const search = params.get('q') ?? '';
  const includeArchived = params.get('archived') === '1';
  const [text, setText] = useState(search);
  // Cursors of the pages before this one: "Previous page" pops one, "Next page" pushes one.
  const [cursors, setCursors] = useState<string[]>([]);

  const setParam = (key: string, value: string | null): void => {
    setCursors([]);
    setParams((p) => {
      const next = new URLSearchParams(p);
      if (value) next.set(key, value);
      else next.delete(key);
      return next;
    });
  };

  // Typing searches after a pause, not on every key.
  useEffect(() => {
    if (text.trim() === search) return;
    const t = setTimeout(() => setParam('q', text.trim() || null), 300);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [text, search]);

  const [{ data, fetching, error }] = useQuery({
    query: PatientsQuery,
    variables: { search: search || null, first: PAGE, after: cursors.at(-1), includeArchived },
  });
  const conn = data?.patients;
  const count = conn ? `${conn.totalCount} ${conn.totalCount === 1 ? 'patient' : 'patients'}` : '';

  return (
    <section className="page clinical">
      <PageTitle
        actions={
          <Link className="button button-primary" to="/patients/new">
            New patient
          </Link>
        }
      >
        Patients
      </PageTitle>
      <form className="clinical-toolbar" role="search" onSubmit={(e) => e.preventDefault()}>
        <Field
          label="Search patients"
          type="search"
          value={text}
          placeholder="Name or external ID"
          onChange={(e) => setText(e.target.value)}
        />
        <label className="clinical-check">
          <input
            type="checkbox"
            checked={includeArchived}
            onChange={(e) => setParam('archived', e.target.checked ? '1' : null)}
          />
          Include archived
        </label>
      </form>
      <ErrorMessage errors={apiErrors(error)} />
      {fetching && !conn ? <ProgressBar label="Loading patients" /> : null}
      {conn ? (
        <>
          <p className="clinical-muted" role="status">
            {count}
            {search ? ` matching “${search}”` : ''}
          </p>
          <Table
            caption="Patients, newest first"
            hideCaption
            columns={COLUMNS}
            rows={conn.edges.map((e) => e.node)}
            rowKey={(p) => p.id}
            empty={search ? 'No patient matches this search.' : 'No patients yet: create the first one.'}
          />
          {cursors.length === 0 && !conn.pageInfo.hasNextPage ? null : (
            <nav className="clinical-pager" aria-label="Patient pages">
              <Button disabled={cursors.length === 0} onClick={() => setCursors((c) => c.slice(0, -1))}>
                Previous page
              </Button>
              <Button
                disabled={!conn.pageInfo.hasNextPage || !conn.pageInfo.endCursor}
                onClick={() => setCursors((c) => [...c, conn.pageInfo.endCursor!])}
              >
                Next page
              </Button>
            </nav>
          )}
        </>
      ) : null}
    </section>
  );
}
