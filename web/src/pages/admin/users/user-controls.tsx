// The controls of one account's row. Each has its own mutation, so its error is shown beside it.
import { useState, type ReactNode } from 'react';
import { useMutation } from 'urql';
import { Button, SelectField, apiErrors } from '../../../ui';
import { useAuth } from '../../../app/auth';
import type { Role } from '../../../gql/graphql';
import { ResetUserTwoFactorMutation, SetUserDisabledMutation, SetUserRoleMutation } from '../operations';
import type { UserRow } from './users-page';

const ROLES: Role[] = ['ADMIN', 'CLINICIAN', 'RESEARCHER'];

/** The first error's words, for the line under a control. */
const firstError = (error: Parameters<typeof apiErrors>[0]) => apiErrors(error)[0]?.message;

export function RoleControl({ user }: { user: UserRow }): ReactNode {
  const [role, setRole] = useState<Role>(user.role);
  const [{ fetching, error }, save] = useMutation(SetUserRoleMutation);
  const [saved, setSaved] = useState(false);
  // The role last sent: its refusal is shown while that role is still the one chosen.
  const [sent, setSent] = useState<Role | null>(null);
  return (
    <div className="admin-inline">
      <SelectField
        label={<span className="visually-hidden">Role of {user.email}</span>}
        value={role}
        error={sent === role ? firstError(error) : undefined}
        onChange={(e) => {
          setSaved(false);
          setRole(e.target.value as Role);
        }}
      >
        {ROLES.map((r) => (
          <option key={r} value={r}>
            {r.toLowerCase()}
          </option>
        ))}
      </SelectField>
      <Button
        aria-label={`Save role of ${user.email}`}
        disabled={role === user.role}
        busy={fetching}
        onClick={async () => {
          setSent(role);
          const r = await save({ userId: user.id, role });
          if (!r.error) setSaved(true);
        }}
      >
        Save role
      </Button>
      {saved && role === user.role ? (
        <span className="admin-ok" role="status">
          Saved
        </span>
      ) : null}
    </div>
  );
}

export function StatusControl({ user }: { user: UserRow }): ReactNode {
  const { user: me } = useAuth();
  const [{ fetching, error }, setDisabled] = useMutation(SetUserDisabledMutation);
  const message = firstError(error);
  return (
    <div className="admin-inline">
      <span className={user.disabled ? 'admin-badge admin-badge-off' : 'admin-badge admin-badge-on'}>
        {user.disabled ? 'Disabled' : 'Enabled'}
      </span>
      <Button
        aria-label={`${user.disabled ? 'Enable' : 'Disable'} ${user.email}`}
        busy={fetching}
        // Disabling oneself would end this very session; the API allows it, the console does not offer it.
        disabled={me?.id === user.id}
        onClick={() => void setDisabled({ userId: user.id, disabled: !user.disabled })}
      >
        {user.disabled ? 'Enable' : 'Disable'}
      </Button>
      {message ? (
        <p className="field-error" role="alert">
          {message}
        </p>
      ) : null}
    </div>
  );
}

export function TwoFactorControl({ user }: { user: UserRow }): ReactNode {
  const [confirming, setConfirming] = useState(false);
  const [{ fetching, error }, reset] = useMutation(ResetUserTwoFactorMutation);
  const message = firstError(error);
  if (!user.twoFactorEnabled && !message) return <span className="muted">Off</span>;
  return (
    <div className="admin-inline">
      <span>{user.twoFactorEnabled ? 'On' : 'Off'}</span>
      {user.twoFactorEnabled && !confirming ? (
        <Button aria-label={`Reset 2FA of ${user.email}`} onClick={() => setConfirming(true)}>
          Reset 2FA
        </Button>
      ) : null}
      {user.twoFactorEnabled && confirming ? (
        <>
          <Button
            variant="danger"
            aria-label={`Switch off 2FA of ${user.email}`}
            busy={fetching}
            onClick={async () => {
              const r = await reset({ userId: user.id });
              if (!r.error) setConfirming(false);
            }}
          >
            Switch off 2FA
          </Button>
          <Button variant="quiet" onClick={() => setConfirming(false)}>
            Cancel
          </Button>
        </>
      ) : null}
      {message ? (
        <p className="field-error" role="alert">
          {message}
        </p>
      ) : null}
    </div>
  );
}
