// The users table's columns, few and stacked so the table fits a laptop's width: who the account is (its name
// editable), its role and plan, how it signs in (enabled, 2FA, a mailed password reset), what it used this month
// (User.usage, counted in UTC), its dates, and deletion. Each control shows its own error.
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { formatDate, formatDateTime, type Column } from '../../../ui';
import { NameControl, PasswordResetControl } from './account-controls';
import { DeleteUserControl, type Deletion } from './delete-user';
import { PlanControl, RoleControl, StatusControl, TwoFactorControl } from './user-controls';
import type { UserRow } from './users-page';

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

function AccountCell({ u }: { u: UserRow }): ReactNode {
  return (
    <div className="users-stack">
      <span>
        <span className="admin-strong">{u.email}</span>
        {u.invitationPending ? (
          <span className="admin-badge">invited</span>
        ) : !u.emailVerified ? (
          <span className="admin-badge">email not verified</span>
        ) : null}
      </span>
      <NameControl user={u} />
      <Link
        className="admin-sub"
        to={`/admin/audit?user=${encodeURIComponent(u.id)}`}
        aria-label={`Audit log of ${u.email}`}
      >
        Audit log
      </Link>
    </div>
  );
}

function UsageCell({ u }: { u: UserRow }): ReactNode {
  if (!u.usage) return <span className="muted">–</span>;
  const x = u.usage;
  return (
    <ul className="users-usage">
      <li>{count(x.uploads, 'upload', 'uploads')}</li>
      <li>{count(x.predictions, 'prediction', 'predictions')}</li>
      <li>{count(x.segmentations, 'segmentation', 'segmentations')}</li>
      <li>{count(x.reports, 'report', 'reports')}</li>
    </ul>
  );
}

export function userColumns(onDeleted: (d: Deletion) => void): Column<UserRow>[] {
  return [
    { header: 'Account', cell: (u) => <AccountCell u={u} /> },
    {
      header: 'Role and plan',
      cell: (u) => (
        <div className="users-stack">
          <RoleControl user={u} />
          <PlanControl user={u} />
        </div>
      ),
    },
    {
      header: 'Sign-in',
      cell: (u) => (
        <div className="users-stack">
          <StatusControl user={u} />
          <TwoFactorControl user={u} />
          <PasswordResetControl user={u} />
        </div>
      ),
    },
    { header: 'This month', cell: (u) => <UsageCell u={u} /> },
    {
      header: 'Registered, last sign-in',
      cell: (u) => (
        <>
          {formatDate(u.createdAt)}
          <span className="admin-sub">{u.lastLoginAt ? formatDateTime(u.lastLoginAt) : 'never signed in'}</span>
        </>
      ),
    },
    { header: 'Delete', cell: (u) => <DeleteUserControl user={u} onDeleted={onDeleted} /> },
  ];
}
