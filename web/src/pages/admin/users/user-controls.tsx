// The controls of one account's row. Each has its own mutation, so its error is shown beside it.
import { useState, type ReactNode } from 'react';
import { useMutation } from 'urql';
import { Button, SelectField, apiErrors } from '../../../ui';
import { useAuth } from '../../../app/auth';
import {
  ResetUserTwoFactorMutation,
  SetUserDisabledMutation,
  SetUserPlanMutation,
  SetUserRoleMutation,
} from '../operations';
import { InlineError, PLANS, ROLES, enumOptions } from './choices';
import type { UserRow } from './users-page';

/** The first error's words, for the line under a control. */
export const firstError = (error: Parameters<typeof apiErrors>[0]) => apiErrors(error)[0]?.message;

interface ChoiceProps<T extends string> {
  /** What is chosen, e.g. "role": names the select ("Role of ...") and the button ("Save role of ..."). */
  what: string;
  email: string;
  current: T;
  options: readonly T[];
  fetching: boolean;
  error: Parameters<typeof apiErrors>[0];
  save(value: T): Promise<{ error?: unknown }>;
}

/** A select and its Save button; the refusal of a value reads under the select while that value is chosen. */
function ChoiceControl<T extends string>({ what, email, current, options, fetching, error, save }: ChoiceProps<T>) {
  const [value, setValue] = useState<T>(current);
  const [saved, setSaved] = useState(false);
  const [sent, setSent] = useState<T | null>(null);
  const title = `${what[0].toUpperCase()}${what.slice(1)}`;
  return (
    <div className="admin-choice">
      <SelectField
        label={
          <span className="visually-hidden">
            {title} of {email}
          </span>
        }
        value={value}
        error={sent === value ? firstError(error) : undefined}
        onChange={(e) => {
          setSaved(false);
          setValue(e.target.value as T);
        }}
      >
        {enumOptions(options)}
      </SelectField>
      <Button
        aria-label={`Save ${what} of ${email}`}
        disabled={value === current}
        busy={fetching}
        onClick={async () => {
          setSent(value);
          const r = await save(value);
          if (!r.error) setSaved(true);
        }}
      >
        Save
      </Button>
      {saved && value === current ? (
        <span className="admin-ok" role="status">
          Saved
        </span>
      ) : null}
    </div>
  );
}

export function RoleControl({ user }: { user: UserRow }): ReactNode {
  const [{ fetching, error }, save] = useMutation(SetUserRoleMutation);
  return (
    <ChoiceControl
      what="role"
      email={user.email}
      current={user.role}
      options={ROLES}
      fetching={fetching}
      error={error}
      save={(role) => save({ userId: user.id, role })}
    />
  );
}

/** The plan sets the monthly quotas (setUserPlan); they follow at once. */
export function PlanControl({ user }: { user: UserRow }): ReactNode {
  const [{ fetching, error }, save] = useMutation(SetUserPlanMutation);
  return (
    <ChoiceControl
      what="plan"
      email={user.email}
      current={user.plan}
      options={PLANS}
      fetching={fetching}
      error={error}
      save={(plan) => save({ userId: user.id, plan })}
    />
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
      <InlineError message={message} />
    </div>
  );
}

export function TwoFactorControl({ user }: { user: UserRow }): ReactNode {
  const [confirming, setConfirming] = useState(false);
  const [{ fetching, error }, reset] = useMutation(ResetUserTwoFactorMutation);
  const message = firstError(error);
  if (!user.twoFactorEnabled && !message) return <span className="muted">2FA off</span>;
  return (
    <div className="admin-inline">
      <span>{user.twoFactorEnabled ? '2FA on' : '2FA off'}</span>
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
      <InlineError message={message} />
    </div>
  );
}
