// A row's name editor and its admin-started password reset (or new invitation, while one is pending). Each has
// its own mutation, so its error reads beside it.
import { useState, type FormEvent, type ReactNode } from 'react';
import { useMutation } from 'urql';
import { Button, Field, useGraphQLErrors } from '../../../ui';
import { SendUserPasswordResetMutation, SetUserNameMutation } from '../operations';
import { InlineError } from './choices';
import { firstError } from './user-controls';
import type { UserRow } from './users-page';

/** The display name: a blank one clears it (setUserName). */
export function NameControl({ user }: { user: UserRow }): ReactNode {
  const [value, setValue] = useState(user.name ?? '');
  const [saved, setSaved] = useState(false);
  const [{ fetching, error }, save] = useMutation(SetUserNameMutation);
  const errors = useGraphQLErrors(error, ['name']);
  const changed = value.trim() !== (user.name ?? '');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSaved(false);
    const r = await save({ userId: user.id, name: value.trim() || null });
    if (!r.error) setSaved(true);
  };
  return (
    <form className="admin-choice" onSubmit={submit}>
      <Field
        label={<span className="visually-hidden">Name of {user.email}</span>}
        value={value}
        maxLength={200}
        placeholder="No name"
        error={errors.fieldError('name') ?? errors.others[0]?.message}
        onChange={(e) => {
          setSaved(false);
          setValue(e.target.value);
        }}
      />
      <Button type="submit" aria-label={`Save name of ${user.email}`} disabled={!changed} busy={fetching}>
        Save
      </Button>
      {saved && !changed ? (
        <span className="admin-ok" role="status">
          Saved
        </span>
      ) : null}
    </form>
  );
}

/**
 * Mails a single-use link to choose a new password, or a new invitation while the first is not taken up; the older
 * link stops working. Optionally ends every session now (the password may be known to someone else).
 */
export function PasswordResetControl({ user }: { user: UserRow }): ReactNode {
  const [asking, setAsking] = useState(false);
  const [signOut, setSignOut] = useState(false);
  const [sent, setSent] = useState(false);
  const [{ fetching, error }, send] = useMutation(SendUserPasswordResetMutation);
  const message = firstError(error);
  const what = user.invitationPending ? 'invitation' : 'password reset';
  if (!asking)
    return (
      <div className="admin-inline">
        <Button
          aria-label={`${user.invitationPending ? 'Invite again' : 'Reset password of'} ${user.email}`}
          onClick={() => {
            setSent(false);
            setAsking(true);
          }}
        >
          {user.invitationPending ? 'Invite again' : 'Reset password'}
        </Button>
        {sent ? (
          <span className="admin-ok" role="status">
            {user.invitationPending ? 'Invitation sent' : 'Reset link sent'}
          </span>
        ) : null}
      </div>
    );
  return (
    <div className="admin-inline">
      {user.invitationPending ? null : (
        <label className="users-check">
          <input type="checkbox" checked={signOut} onChange={(e) => setSignOut(e.target.checked)} />
          End their sessions now
        </label>
      )}
      <Button
        variant="primary"
        aria-label={`Send ${what} to ${user.email}`}
        busy={fetching}
        onClick={async () => {
          const r = await send({ userId: user.id, signOut });
          if (!r.error) {
            setAsking(false);
            setSent(true);
          }
        }}
      >
        Send {what}
      </Button>
      <Button variant="quiet" onClick={() => setAsking(false)}>
        Cancel
      </Button>
      <InlineError message={message} />
    </div>
  );
}
