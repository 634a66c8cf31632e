// The users table's columns: who the account is, its controls (each with its own error), what it used this month
// (User.usage, counted in UTC) and its dates.
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { formatDate, formatDateTime, type Column } from '../../../ui';
import { NameControl, PasswordResetControl } from './account-controls';
import { DeleteUserControl, type Deletion } from './delete-user';
import { PlanControl, RoleControl, StatusControl, TwoFactorControl } from './user-controls';
import type { UserRow } from './users-page';

type Usage = NonNullable<UserRow['usage']>;

/** A usage column: its header says "this month" to screen readers; a line above the table says it to everyone. */
function usageColumn(header: string, count: (u: Usage) => number): Column<UserRow> {
  return {
    header: (
      <>
        {header}
        <span className="visually-hidden"> this month</span>
      </>
    ),
    numeric: true,
    cell: (u) => (u.usage ? count(u.usage) : '–'),
  };
}

function AccountCell({ u }: { u: UserRow }): ReactNode {
  return (
    <>
      <span className="admin-strong">{u.email}</span>
      {u.invitationPending ? (
        <span className="admin-badge">invited</span>
      ) : !u.emailVerified ? (
        <span className="admin-badge">email not verified</span>
      ) : null}
      <Link
        className="admin-sub"
        to={`/admin/audit?user=${encodeURIComponent(u.id)}`}
        aria-label={`Audit log of ${u.email}`}
      >
        Audit log
      </Link>
    </>
  );
}

export function userColumns(onDeleted: (d: Deletion) => void): Column<UserRow>[] {
  return [
    { header: 'Account', cell: (u) => <AccountCell u={u} /> },
    // Keyed by the saved name: a name saved elsewhere (or cleared) starts the field again from it.
    { header: 'Name', cell: (u) => <NameControl key={u.name ?? ''} user={u} /> },
    { header: 'Role', cell: (u) => <RoleControl user={u} /> },
    { header: 'Plan', cell: (u) => <PlanControl user={u} /> },
    { header: 'Status', cell: (u) => <StatusControl user={u} /> },
    { header: 'Two-factor', cell: (u) => <TwoFactorControl user={u} /> },
    usageColumn('Uploads', (x) => x.uploads),
    usageColumn('Predictions', (x) => x.predictions),
    usageColumn('Segmentations', (x) => x.segmentations),
    usageColumn('Reports', (x) => x.reports),
    { header: 'Registered', cell: (u) => formatDate(u.createdAt) },
    { header: 'Last sign-in', cell: (u) => formatDateTime(u.lastLoginAt) },
    {
      header: 'Access',
      cell: (u) => (
        <div className="admin-actions">
          <PasswordResetControl user={u} />
          <DeleteUserControl user={u} onDeleted={onDeleted} />
        </div>
      ),
    },
  ];
}
