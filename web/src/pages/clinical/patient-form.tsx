// The PatientInput form, for a new record and for changing one (updatePatient replaces every field); each
// refused field's error sits under its control.
import { useState, type FormEvent, type ReactNode } from 'react';
import type { CombinedError } from 'urql';
import { Button, ErrorMessage, Field, FieldFrame, SelectField, useGraphQLErrors } from '../../ui';
import type { PatientInput, Sex } from '../../gql/graphql';

const SEXES: [Sex | '', string][] = [
  ['', 'Not recorded'],
  ['FEMALE', 'Female'],
  ['MALE', 'Male'],
  ['OTHER', 'Other'],
  ['UNKNOWN', 'Unknown'],
];

const FIELDS = ['externalId', 'displayName', 'dateOfBirth', 'sex', 'notes'] as const;

export interface PatientValues {
  externalId: string;
  displayName: string;
  dateOfBirth?: string | null;
  sex?: Sex | null;
  notes?: string | null;
}

export function PatientForm(props: {
  initial?: PatientValues;
  submitLabel: string;
  busy: boolean;
  error?: CombinedError;
  onSubmit: (input: PatientInput) => void;
  children?: ReactNode;
}): ReactNode {
  const i = props.initial;
  const [form, setForm] = useState({
    externalId: i?.externalId ?? '',
    displayName: i?.displayName ?? '',
    dateOfBirth: i?.dateOfBirth ?? '',
    sex: i?.sex ?? '',
    notes: i?.notes ?? '',
  });
  const errors = useGraphQLErrors(props.error, FIELDS);
  const set =
    (k: keyof typeof form) =>
    (e: { target: { value: string } }): void =>
      setForm((f) => ({ ...f, [k]: e.target.value }));

  function submit(e: FormEvent): void {
    e.preventDefault();
    props.onSubmit({
      externalId: form.externalId,
      displayName: form.displayName,
      dateOfBirth: form.dateOfBirth || null,
      sex: (form.sex || null) as Sex | null,
      notes: form.notes || null,
    });
  }

  return (
    <form className="clinical-form" onSubmit={submit} noValidate>
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
        <Button type="submit" variant="primary" busy={props.busy}>
          {props.submitLabel}
        </Button>
        {props.children}
      </div>
    </form>
  );
}
