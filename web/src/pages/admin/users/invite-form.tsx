// Inviting someone (inviteUser): the account is made at once and its owner chooses a password through the mailed
// single-use link, which also confirms the address. A taken address reads under the email (EMAIL_TAKEN).
import { useState, type FormEvent, type ReactNode } from 'react';
import { useMutation } from 'urql';
import { Button, ErrorMessage, Field, Notice, SelectField, useGraphQLErrors } from '../../../ui';
import type { Plan, Role } from '../../../gql/graphql';
import { InviteUserMutation } from '../operations';
import { PLANS, ROLES, enumOptions } from './choices';

const FIELDS = ['email', 'name', 'role', 'plan'] as const;

interface Draft {
  email: string;
  name: string;
  role: Role;
  plan: Plan;
}

const EMPTY: Draft = { email: '', name: '', role: 'CLINICIAN', plan: 'FREE' };

export function InviteForm(): ReactNode {
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [invited, setInvited] = useState<string | null>(null);
  const [{ fetching, error }, invite] = useMutation(InviteUserMutation);
  const errors = useGraphQLErrors(error, FIELDS);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setInvited(null);
    const r = await invite({
      input: { email: draft.email, name: draft.name.trim() || null, role: draft.role, plan: draft.plan },
    });
    if (r.data) {
      setInvited(r.data.inviteUser.email);
      setDraft(EMPTY);
    }
  };
  return (
    <section className="admin-panel" aria-labelledby="invite-heading">
      <h2 id="invite-heading">Invite someone</h2>
      <form className="admin-filters" onSubmit={submit}>
        <Field
          label="Email to invite"
          type="email"
          required
          autoComplete="off"
          value={draft.email}
          error={errors.fieldError('email')}
          onChange={(e) => setDraft({ ...draft, email: e.target.value })}
        />
        <Field
          label="Their name (optional)"
          value={draft.name}
          maxLength={200}
          autoComplete="off"
          error={errors.fieldError('name')}
          onChange={(e) => setDraft({ ...draft, name: e.target.value })}
        />
        <SelectField
          label="Their role"
          value={draft.role}
          error={errors.fieldError('role')}
          onChange={(e) => setDraft({ ...draft, role: e.target.value as Role })}
        >
          {enumOptions(ROLES)}
        </SelectField>
        <SelectField
          label="Their plan"
          value={draft.plan}
          error={errors.fieldError('plan')}
          onChange={(e) => setDraft({ ...draft, plan: e.target.value as Plan })}
        >
          {enumOptions(PLANS)}
        </SelectField>
        <Button type="submit" variant="primary" busy={fetching}>
          Send invitation
        </Button>
      </form>
      <ErrorMessage errors={errors.others} />
      {invited ? (
        <Notice tone="success">
          Invitation mailed to {invited}: the link lets them choose a password. They appear below as invited.
        </Notice>
      ) : null}
    </section>
  );
}
