// New patient: the PatientInput form; each refused field's error sits under its control.
import { useState, type FormEvent, type ReactNode } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMutation } from 'urql';
import { Button, ErrorMessage, Field, FieldFrame, PageTitle, SelectField, useGraphQLErrors } from '../../ui';
import { CreatePatientMutation } from './operations';
import type { Sex } from '../../gql/graphql';

const SEXES: [Sex | '', string][] = [
  ['', 'Not recorded'],
  ['FEMALE', 'Female'],
  ['MALE', 'Male'],
  ['OTHER', 'Other'],
  ['UNKNOWN', 'Unknown'],
];

const FIELDS = ['externalId', 'displayName', 'dateOfBirth', 'sex', 'notes'] as const;

export function PatientNewPage(): ReactNode {
  const navigate = useNavigate();
  const [{ fetching, error }, create] = useMutation(CreatePatientMutation);
  const [form, setForm] = useState({ externalId: '', displayName: '', dateOfBirth: '', sex: '', notes: '' });
  const errors = useGraphQLErrors(error, FIELDS);
  const set =
    (k: keyof typeof form) =>
    (e: { target: { value: string } }): void =>
      setForm((f) => ({ ...f, [k]: e.target.value }));

  async function submit(e: FormEvent): Promise<void> {
    e.preventDefault();
    const res = await create({
      input: {
        externalId: form.externalId,
        displayName: form.displayName,
        dateOfBirth: form.dateOfBirth || null,
        sex: (form.sex || null) as Sex | null,
        notes: form.notes || null,
      },
    });
    const id = res.data?.createPatient.id;
    if (id) navigate(`/patients/${encodeURIComponent(id)}`);
  }

  return (
    <section className="page clinical">
      <p className="clinical-back">
        <Link to="/patients">← Patients</Link>
      </p>
      <PageTitle>New patient</PageTitle>
      <form className="clinical-form" onSubmit={(e) => void submit(e)} noValidate>
        <Field
          label="External ID (MRN)"
          required
          maxLength={100}
          value={form.externalId}
          onChange={set('externalId')}
          error={errors.fieldError('externalId')}
        />
        <Field
          label="Display name"
          required
          maxLength={200}
          value={form.displayName}
          onChange={set('displayName')}
          error={errors.fieldError('displayName')}
        />
        <Field
          label="Date of birth"
          type="date"
          value={form.dateOfBirth}
          onChange={set('dateOfBirth')}
          error={errors.fieldError('dateOfBirth')}
        />
        <SelectField label="Sex" value={form.sex} onChange={set('sex')} error={errors.fieldError('sex')}>
          {SEXES.map(([v, l]) => (
            <option key={v} value={v}>
              {l}
            </option>
          ))}
        </SelectField>
        <FieldFrame label="Notes" error={errors.fieldError('notes')}>
          {(control) => <textarea rows={4} value={form.notes} onChange={set('notes')} {...control} />}
        </FieldFrame>
        <ErrorMessage errors={errors.others} />
        <div className="clinical-actions">
          <Button type="submit" variant="primary" busy={fetching}>
            Create patient
          </Button>
        </div>
      </form>
    </section>
  );
}
