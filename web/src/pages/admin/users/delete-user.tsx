// Deleting an account: a confirm dialog that says what follows (ACCOUNT_DELETION_PATIENTS decides where the
// account's patients go) and asks for the successor who takes them over; the server's refusal reads beside the
// control it names (SUCCESSOR_REQUIRED, ARCHIVE_MODE, SUCCESSOR_INELIGIBLE on the successor, SELF, LAST_ADMIN).
import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { useMutation, useQuery } from 'urql';
import { Button, ErrorMessage, SelectField, useGraphQLErrors } from '../../../ui';
import { useAuth } from '../../../app/auth';
import type { AdminDeleteUserMutation } from '../../../gql/graphql';
import { DeleteUserMutation, SuccessorsQuery } from '../operations';
import type { UserRow } from './users-page';

export type Deletion = AdminDeleteUserMutation['deleteUser'] & { email: string; successorEmail?: string };

/** What the page says once an account is gone. */
export function deletionSummary(d: Deletion): string {
  const row =
    d.outcome === 'DELETED'
      ? 'the account is removed'
      : 'the account is kept anonymised for the records that point at it';
  const patients =
    d.patientsTransferred > 0
      ? `; ${d.patientsTransferred} ${d.patientsTransferred === 1 ? 'patient' : 'patients'} moved to ${d.successorEmail ?? 'the successor'}`
      : d.patientsArchived > 0
        ? `; ${d.patientsArchived} ${d.patientsArchived === 1 ? 'patient' : 'patients'} archived`
        : '';
  return `Deleted ${d.email}: ${row}${patients}.`;
}

function SuccessorSelect({
  user,
  value,
  error,
  onChange,
}: {
  user: UserRow;
  value: string;
  error?: string;
  onChange(id: string, email?: string): void;
}): ReactNode {
  const [{ data }] = useQuery({ query: SuccessorsQuery, requestPolicy: 'network-only' });
  const people = [...(data?.clinicians?.edges ?? []), ...(data?.admins?.edges ?? [])]
    .map((e) => e.node)
    .filter((u) => u.id !== user.id);
  return (
    <SelectField
      label="Successor for their patients"
      hint="An enabled clinician or admin. Leave empty when they own no patients, or when this server archives them."
      value={value}
      error={error}
      onChange={(e) => onChange(e.target.value, people.find((p) => p.id === e.target.value)?.email)}
    >
      <option value="">No successor</option>
      {people.map((p) => (
        <option key={p.id} value={p.id}>
          {p.name ? `${p.name} (${p.email})` : p.email}
        </option>
      ))}
    </SelectField>
  );
}

function DeleteDialog({
  user,
  onClose,
  onDeleted,
}: {
  user: UserRow;
  onClose(): void;
  onDeleted(d: Deletion): void;
}): ReactNode {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  const [successor, setSuccessor] = useState<{ id: string; email?: string }>({ id: '' });
  const [{ fetching, error }, remove] = useMutation(DeleteUserMutation);
  const errors = useGraphQLErrors(error, ['successorId']);
  // A modal <dialog>: the browser keeps focus inside, Escape closes it, the page behind is inert.
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    // The row leaves the users list: ask for the list again (the answer is a UserDeletion, not a User).
    const r = await remove(
      { userId: user.id, successorId: successor.id || null },
      { additionalTypenames: ['User', 'UserConnection'] },
    );
    if (r.data) onDeleted({ ...r.data.deleteUser, email: user.email, successorEmail: successor.email });
  };
  return (
    <dialog
      ref={ref}
      className="users-dialog"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-what`}
      onClose={onClose}
    >
      <form onSubmit={submit}>
        <h2 id={`${id}-title`}>Delete {user.email}?</h2>
        <div id={`${id}-what`}>
          <p>This cannot be undone. Their sessions end at once and the account never signs in again.</p>
          <ul>
            <li>
              Their patients go to the successor you choose below when this server transfers them
              (ACCOUNT_DELETION_PATIENTS=transfer, the default: a successor is then required if they own any), or are
              archived when it is set to archive (choose no successor then).
            </li>
            <li>
              The images, results, reports and timeline entries they made stay. The account is kept without email, name
              or password when such records point at it, and removed when none do.
            </li>
            <li>The audit log keeps its entries, without their address.</li>
          </ul>
        </div>
        <SuccessorSelect
          user={user}
          value={successor.id}
          error={errors.fieldError('successorId')}
          onChange={(sid, email) => setSuccessor({ id: sid, email })}
        />
        <ErrorMessage errors={errors.others} />
        <div className="users-dialog-actions">
          <Button type="submit" variant="danger" busy={fetching}>
            Delete the account
          </Button>
          {/* close() (like Escape) gives the focus back to the Delete button; the close event unmounts the dialog. */}
          <Button variant="quiet" onClick={() => ref.current?.close()}>
            Cancel
          </Button>
        </div>
      </form>
    </dialog>
  );
}

export function DeleteUserControl({ user, onDeleted }: { user: UserRow; onDeleted(d: Deletion): void }): ReactNode {
  const { user: me } = useAuth();
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button
        variant="danger"
        aria-label={`Delete ${user.email}`}
        // The API refuses it (SELF): another admin deletes an admin's account.
        disabled={me?.id === user.id}
        onClick={() => setOpen(true)}
      >
        Delete
      </Button>
      {open ? (
        <DeleteDialog
          user={user}
          onClose={() => setOpen(false)}
          onDeleted={(d) => {
            setOpen(false);
            onDeleted(d);
          }}
        />
      ) : null}
    </>
  );
}
