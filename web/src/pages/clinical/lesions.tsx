// A patient's lesions and the form that records a new one.
import { useState, type FormEvent, type ReactNode } from 'react';
import { useMutation } from 'urql';
import { Button, ErrorMessage, Field, formatDate, useGraphQLErrors } from '../../ui';
import { CreateLesionMutation } from './operations';

interface LesionRow {
  id: string;
  label: string;
  bodySite: string;
  createdAt: string;
}

const FIELDS = ['label', 'bodySite'] as const;

export function Lesions(props: {
  patientId: string;
  lesions: LesionRow[];
  archived: boolean;
  onChanged: () => void;
}): ReactNode {
  const [{ fetching, error }, create] = useMutation(CreateLesionMutation);
  const [label, setLabel] = useState('');
  const [bodySite, setBodySite] = useState('');
  const errors = useGraphQLErrors(error, FIELDS);

  async function submit(e: FormEvent): Promise<void> {
    e.preventDefault();
    const res = await create({ patientId: props.patientId, input: { label, bodySite } });
    if (res.data) {
      setLabel('');
      setBodySite('');
      props.onChanged();
    }
  }

  return (
    <section aria-labelledby="lesions-heading" className="clinical-panel">
      <h2 id="lesions-heading">Lesions</h2>
      {props.lesions.length === 0 ? (
        <p className="clinical-muted">No lesions recorded.</p>
      ) : (
        <ul className="clinical-lesions">
          {props.lesions.map((l) => (
            <li key={l.id}>
              <strong>{l.label}</strong> — {l.bodySite}{' '}
              <span className="clinical-muted">(recorded {formatDate(l.createdAt)})</span>
            </li>
          ))}
        </ul>
      )}
      {props.archived ? null : (
        <form className="clinical-inline-form" onSubmit={(e) => void submit(e)} noValidate aria-label="New lesion">
          <Field
            label="Lesion label"
            value={label}
            maxLength={200}
            placeholder="e.g. mole 3"
            onChange={(e) => setLabel(e.target.value)}
            error={errors.fieldError('label')}
          />
          <Field
            label="Body site"
            value={bodySite}
            maxLength={200}
            placeholder="e.g. left forearm"
            onChange={(e) => setBodySite(e.target.value)}
            error={errors.fieldError('bodySite')}
          />
          <div className="clinical-submit">
            <Button type="submit" busy={fetching}>
              Add lesion
            </Button>
            <ErrorMessage errors={errors.others} />
          </div>
        </form>
      )}
    </section>
  );
}
