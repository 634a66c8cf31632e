// Sharing: who else may read and change the patient. The API finds clinicians by id only (the user list
// is for admins), so a share takes the colleague's user ID (their `me { id }`).
import { useState, type FormEvent, type ReactNode } from 'react';
import { useMutation } from 'urql';
import { useAuth } from '../../app/auth';
import { Button, ErrorMessage, Field, apiErrors, useGraphQLErrors } from '../../ui';
import { ShareMutation, UnshareMutation } from './operations';

interface Sharee {
  id: string;
  name?: string | null;
  email: string;
}

const FIELDS = ['userId'] as const;

export function Sharing(props: { patientId: string; sharedWith: Sharee[]; onChanged: () => void }): ReactNode {
  const [share, runShare] = useMutation(ShareMutation);
  const [unshare, runUnshare] = useMutation(UnshareMutation);
  const [userId, setUserId] = useState('');
  const [removing, setRemoving] = useState<string | null>(null);
  const errors = useGraphQLErrors(share.error, FIELDS);
  const me = useAuth().user;
  // An id that names no enabled account is NOT_FOUND without a field: it is still about the ID typed.
  const unknown = errors.others.find((e) => e.code === 'NOT_FOUND');
  const userIdError = errors.fieldError('userId') ?? (unknown ? 'No enabled account has this user ID.' : undefined);
  const others = errors.others.filter((e) => e !== unknown);

  async function submit(e: FormEvent): Promise<void> {
    e.preventDefault();
    const res = await runShare({ patientId: props.patientId, userId: userId.trim() });
    if (res.data) {
      setUserId('');
      props.onChanged();
    }
  }

  async function remove(id: string): Promise<void> {
    setRemoving(id);
    const res = await runUnshare({ patientId: props.patientId, userId: id });
    if (res.data) props.onChanged();
  }

  return (
    <section aria-labelledby="sharing-heading" className="clinical-panel">
      <h2 id="sharing-heading">Sharing</h2>
      {props.sharedWith.length === 0 ? (
        <p className="clinical-muted">Not shared with anyone.</p>
      ) : (
        <ul className="clinical-sharees">
          {props.sharedWith.map((u) => (
            <li key={u.id}>
              <span>
                {u.name ? `${u.name} · ` : ''}
                {u.email}
              </span>
              <Button
                variant="quiet"
                busy={unshare.fetching && removing === u.id}
                onClick={() => void remove(u.id)}
                aria-label={`Stop sharing with ${u.name ?? u.email}`}
              >
                Stop sharing
              </Button>
              {removing === u.id ? <ErrorMessage errors={apiErrors(unshare.error)} /> : null}
            </li>
          ))}
        </ul>
      )}
      <form className="clinical-inline-form" onSubmit={(e) => void submit(e)} noValidate aria-label="Share">
        <Field
          label="Colleague’s user ID"
          hint="A clinician’s user ID; only the patient’s owner or an admin may share."
          value={userId}
          onChange={(e) => setUserId(e.target.value)}
          error={userIdError}
        />
        <div className="clinical-submit">
          <Button type="submit" busy={share.fetching} disabled={userId.trim() === ''}>
            Share patient
          </Button>
          <ErrorMessage errors={others} />
        </div>
      </form>
      {me ? (
        <p className="clinical-muted">
          Your own user ID, for a colleague who shares a patient with you: <code>{me.id}</code>
        </p>
      ) : null}
    </section>
  );
}
