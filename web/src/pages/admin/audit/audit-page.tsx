// Audit log (admins): security events newest first, narrowed by action, outcome, account and time, paged both
// ways with the connection's cursors. The filter lives in the URL (?action=&success=&user=&since=&until=), so the
// users page can link to one account's entries and the back button restores a view.
import { useState, type FormEvent, type ReactNode } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useQuery } from 'urql';
import {
  Button,
  ErrorMessage,
  Field,
  PageTitle,
  ProgressBar,
  SelectField,
  Table,
  apiErrors,
  formatDateTime,
} from '../../../ui';
import type { AdminAuditLogQuery, AuditAction } from '../../../gql/graphql';
import { AuditLogQuery } from '../operations';
import { AUDIT_ACTIONS, actionWords, localToIso } from './audit-actions';
import '../admin.css';

type Entry = NonNullable<AdminAuditLogQuery['auditLog']>['edges'][number]['node'];
type Page = { after?: string; before?: string };

const PAGE = 25;
const KEYS = ['action', 'success', 'user', 'since', 'until'] as const;
type Draft = Record<(typeof KEYS)[number], string>;

function Details({ details }: { details: Entry['details'] }): ReactNode {
  if (!details || Object.keys(details).length === 0) return <span className="muted">—</span>;
  return (
    <dl className="admin-details">
      {Object.entries(details).map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
        </div>
      ))}
    </dl>
  );
}

const COLUMNS = [
  { header: 'When', cell: (e: Entry) => <time dateTime={e.createdAt}>{formatDateTime(e.createdAt)}</time> },
  {
    header: 'Action',
    cell: (e: Entry) => (
      <>
        {actionWords(e.action)}
        <span className="admin-sub">
          <code>{e.action}</code>
        </span>
      </>
    ),
  },
  {
    header: 'Outcome',
    cell: (e: Entry) => (
      <span className={e.success ? 'admin-badge admin-badge-on' : 'admin-badge admin-badge-off'}>
        {e.success ? 'succeeded' : 'refused'}
      </span>
    ),
  },
  {
    header: 'Account',
    cell: (e: Entry) =>
      e.userId ? (
        <Link to={`/admin/audit?user=${encodeURIComponent(e.userId)}`}>{e.user?.email ?? 'deleted account'}</Link>
      ) : (
        <span className="muted">—</span>
      ),
  },
  { header: 'By admin', cell: (e: Entry) => e.actor?.email ?? <span className="muted">—</span> },
  {
    header: 'From',
    cell: (e: Entry) => (
      <>
        {e.ip ?? 'command line'}
        {e.userAgent ? (
          <span className="admin-sub" title={e.userAgent}>
            {e.userAgent.length > 40 ? `${e.userAgent.slice(0, 39)}…` : e.userAgent}
          </span>
        ) : null}
      </>
    ),
  },
  { header: 'Details', cell: (e: Entry) => <Details details={e.details} /> },
];

/** A new URL filter (a link to one account's entries, the back button) starts a fresh form and first page. */
export function AuditPage(): ReactNode {
  const [params] = useSearchParams();
  return <AuditView key={params.toString()} />;
}

function AuditView(): ReactNode {
  const [params, setParams] = useSearchParams();
  const current = Object.fromEntries(KEYS.map((k) => [k, params.get(k) ?? ''])) as Draft;
  const [draft, setDraft] = useState<Draft>(current);
  const [page, setPage] = useState<Page>({});
  const filter = {
    action: (current.action || undefined) as AuditAction | undefined,
    success: current.success === '' ? undefined : current.success === 'true',
    userId: current.user || undefined,
    since: localToIso(current.since),
    until: localToIso(current.until),
  };
  const [{ data, fetching, error }] = useQuery({
    query: AuditLogQuery,
    variables: page.before ? { filter, last: PAGE, before: page.before } : { filter, first: PAGE, after: page.after },
  });
  const errors = apiErrors(error);
  const fieldError = (name: string) => errors.find((e) => e.field?.endsWith(name))?.message;
  const conn = data?.auditLog;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setPage({});
    const next = new URLSearchParams();
    for (const k of KEYS) if (draft[k].trim()) next.set(k, draft[k].trim());
    setParams(next);
  };

  return (
    <section className="page admin">
      <PageTitle>Audit log</PageTitle>
      <form className="admin-filters" aria-label="Filter the audit log" onSubmit={submit}>
        <SelectField
          label="Action"
          value={draft.action}
          onChange={(e) => setDraft({ ...draft, action: e.target.value })}
        >
          <option value="">Every action</option>
          {AUDIT_ACTIONS.map(([value, words]) => (
            <option key={value} value={value}>
              {words}
            </option>
          ))}
        </SelectField>
        <SelectField
          label="Outcome"
          value={draft.success}
          onChange={(e) => setDraft({ ...draft, success: e.target.value })}
        >
          <option value="">Succeeded and refused</option>
          <option value="true">Succeeded</option>
          <option value="false">Refused or failed</option>
        </SelectField>
        <Field
          label="Account ID"
          value={draft.user}
          hint="User.id; click an account in the log to fill it"
          error={fieldError('userId')}
          onChange={(e) => setDraft({ ...draft, user: e.target.value })}
        />
        <Field
          label="From"
          type="datetime-local"
          value={draft.since}
          error={fieldError('since')}
          onChange={(e) => setDraft({ ...draft, since: e.target.value })}
        />
        <Field
          label="Until"
          type="datetime-local"
          value={draft.until}
          error={fieldError('until')}
          onChange={(e) => setDraft({ ...draft, until: e.target.value })}
        />
        <Button type="submit" variant="primary">
          Apply filters
        </Button>
      </form>
      <ErrorMessage
        errors={errors.filter((e) => !e.field || !['userId', 'since', 'until'].some((f) => e.field!.endsWith(f)))}
      />
      {fetching && !conn ? <ProgressBar label="Loading the audit log" /> : null}
      {conn ? (
        <>
          <Table
            caption={`${conn.totalCount} ${conn.totalCount === 1 ? 'entry' : 'entries'}, newest first`}
            columns={COLUMNS}
            rows={conn.edges.map((e) => e.node)}
            rowKey={(e) => e.id}
            empty="No entry matches."
          />
          <div className="admin-paging">
            <Button
              disabled={!conn.pageInfo.hasPreviousPage || !conn.pageInfo.startCursor}
              onClick={() => setPage({ before: conn.pageInfo.startCursor! })}
            >
              Newer entries
            </Button>
            <Button
              disabled={!conn.pageInfo.hasNextPage || !conn.pageInfo.endCursor}
              onClick={() => setPage({ after: conn.pageInfo.endCursor! })}
            >
              Older entries
            </Button>
          </div>
        </>
      ) : null}
    </section>
  );
}
