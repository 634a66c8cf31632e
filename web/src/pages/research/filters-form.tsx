// The research filters. Model and version suggest what the unfiltered summary has seen (model@version).
import { useState, type FormEvent, type ReactNode } from 'react';
import { Button, Field, SelectField } from '../../ui';
import { SEVERITIES, type FilterDraft } from './filter';

interface Props {
  initial: FilterDraft;
  /** model@version values to suggest. */
  modelVersions: readonly string[];
  fieldError(name: string): string | undefined;
  onApply(draft: FilterDraft): void;
}

export function FiltersForm({ initial, modelVersions, fieldError, onApply }: Props): ReactNode {
  const [draft, setDraft] = useState<FilterDraft>(initial);
  const set = (k: keyof FilterDraft) => (e: { target: { value: string } }) =>
    setDraft({ ...draft, [k]: e.target.value });
  const models = [...new Set(modelVersions.map((mv) => mv.split('@')[0]))];
  const versions = [
    ...new Set(
      modelVersions.filter((mv) => mv.startsWith(`${draft.model.trim()}@`)).map((mv) => mv.slice(mv.indexOf('@') + 1)),
    ),
  ];
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply(draft);
  };
  return (
    <form className="research-filters" aria-label="Filter the metrics" onSubmit={submit}>
      <Field
        label="Label"
        value={draft.label}
        error={fieldError('label')}
        hint="e.g. malignant"
        onChange={set('label')}
      />
      <Field
        label="Model"
        value={draft.model}
        list="research-models"
        error={fieldError('model')}
        onChange={set('model')}
      />
      <datalist id="research-models">
        {models.map((m) => (
          <option key={m} value={m} />
        ))}
      </datalist>
      <Field
        label="Version"
        value={draft.version}
        list="research-versions"
        hint="needs a model"
        error={fieldError('version')}
        onChange={set('version')}
      />
      <datalist id="research-versions">
        {versions.map((v) => (
          <option key={v} value={v} />
        ))}
      </datalist>
      <SelectField label="Severity" value={draft.severity} error={fieldError('severity')} onChange={set('severity')}>
        <option value="">Any severity</option>
        {SEVERITIES.map((s) => (
          <option key={s} value={s}>
            {s.toLowerCase()}
          </option>
        ))}
      </SelectField>
      <Field label="From (day)" type="date" value={draft.since} error={fieldError('since')} onChange={set('since')} />
      <Field label="Before (day)" type="date" value={draft.until} error={fieldError('until')} onChange={set('until')} />
      <Button type="submit" variant="primary">
        Apply filters
      </Button>
    </form>
  );
}
