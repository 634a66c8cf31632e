// Users (admins): invite someone by email, search by email or name, narrow by role and status, rename, change a
// role or a plan (setUserPlan sets the monthly quotas), disable or enable an account, switch off the 2FA of someone
// who lost their device, mail a password reset, delete an account (a confirm dialog says what follows). Each row's
// controls show their own errors (e.g. CONFLICT LAST_ADMIN beside the role of the last admin); each row shows what
// the account used this month.
import { useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { useQuery } from 'urql';
import {
  Button,
  ErrorMessage,
  Field,
  Notice,
  PageTitle,
  ProgressBar,
  SelectField,
  Table,
  apiErrors,
} from '../../../ui';
import type { AdminUsersQuery, Role } from '../../../gql/graphql';
import { UsersQuery } from '../operations';
import { ROLES, enumOptions } from './choices';
import { deletionSummary, type Deletion } from './delete-user';
import { InviteForm } from './invite-form';
import { userColumns } from './user-columns';
import '../admin.css';
import './users.css';

export type UserRow = NonNullable<AdminUsersQuery['users']>['edges'][number]['node'];

const PAGE = 20;

interface Filter {
  search: string;
  role: Role | '';
  status: '' | 'enabled' | 'disabled';
}

export function UsersPage(): ReactNode {
  const [draft, setDraft] = useState<Filter>({ search: '', role: '', status: '' });
  const [filter, setFilter] = useState<Filter>(draft);
  // Cursors of the pages before this one: "Previous page" pops one, "Next page" pushes one.
  const [cursors, setCursors] = useState<string[]>([]);
  const [deleted, setDeleted] = useState<Deletion | null>(null);
  const columns = useMemo(() => userColumns(setDeleted), []);
  const [{ data, fetching, error }] = useQuery({
    query: UsersQuery,
    variables: {
      first: PAGE,
      after: cursors.at(-1),
      filter: {
        search: filter.search.trim() || undefined,
        role: filter.role || undefined,
        disabled: filter.status === '' ? undefined : filter.status === 'disabled',
      },
    },
  });
  const errors = apiErrors(error);
  const searchError = errors.find((e) => e.field?.endsWith('search'))?.message;
  const conn = data?.users;

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    setCursors([]);
    setFilter(draft);
  };

  return (
    <section className="page admin">
      <PageTitle>Users</PageTitle>
      <InviteForm />
      {deleted ? <Notice tone="success">{deletionSummary(deleted)}</Notice> : null}
      <form className="admin-filters" role="search" aria-label="Find accounts" onSubmit={submit}>
        <Field
          label="Search email or name"
          type="search"
          value={draft.search}
          maxLength={200}
          error={searchError}
          onChange={(e) => setDraft({ ...draft, search: e.target.value })}
        />
        <SelectField
          label="Role"
          value={draft.role}
          onChange={(e) => setDraft({ ...draft, role: e.target.value as Role | '' })}
        >
          <option value="">Any role</option>
          {enumOptions(ROLES)}
        </SelectField>
        <SelectField
          label="Status"
          value={draft.status}
          onChange={(e) => setDraft({ ...draft, status: e.target.value as Filter['status'] })}
        >
          <option value="">Enabled and disabled</option>
          <option value="enabled">Enabled</option>
          <option value="disabled">Disabled</option>
        </SelectField>
        <Button type="submit" variant="primary">
          Search
        </Button>
      </form>
      <ErrorMessage errors={errors.filter((e) => e.message !== searchError)} />
      {fetching && !conn ? <ProgressBar label="Loading accounts" /> : null}
      {conn ? (
        <>
          <p className="muted">Uploads, predictions, segmentations and reports count the current month (UTC).</p>
          <Table
            caption={`${conn.totalCount} ${conn.totalCount === 1 ? 'account' : 'accounts'}`}
            columns={columns}
            rows={conn.edges.map((e) => e.node)}
            rowKey={(u) => u.id}
            empty="No account matches."
          />
          <div className="admin-paging">
            <Button disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
              Previous page
            </Button>
            <Button
              disabled={!conn.pageInfo.hasNextPage || !conn.pageInfo.endCursor}
              onClick={() => setCursors([...cursors, conn.pageInfo.endCursor!])}
            >
              Next page
            </Button>
          </div>
        </>
      ) : null}
    </section>
  );
}
