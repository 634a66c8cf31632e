// The record's facts, with "Edit record" (updatePatient replaces every field) and archive / unarchive (the
// owner or an admin; a sharee's refusal reads beside the button).
import { useState, type ReactNode } from 'react';
import { useMutation } from 'urql';
import { Button, ErrorMessage, apiErrors, formatDate } from '../../ui';
import { ArchivePatientMutation, UnarchivePatientMutation, UpdatePatientMutation } from './operations';
import { PatientForm, type PatientValues } from './patient-form';

const SEX: Record<string, string> = { FEMALE: 'Female', MALE: 'Male', OTHER: 'Other', UNKNOWN: 'Unknown' };

export interface RecordFacts extends PatientValues {
  id: string;
  archived: boolean;
  createdAt: string;
  owner?: { name?: string | null; email: string } | null;
}

export function PatientRecord({ patient, onChanged }: { patient: RecordFacts; onChanged: () => void }): ReactNode {
  const [editing, setEditing] = useState(false);
  const [update, runUpdate] = useMutation(UpdatePatientMutation);
  const [archive, runArchive] = useMutation(ArchivePatientMutation);
  const [unarchive, runUnarchive] = useMutation(UnarchivePatientMutation);
  const owner = patient.owner ? (patient.owner.name ?? patient.owner.email) : 'a deleted account';

  const toggleArchive = async (): Promise<void> => {
    const res = patient.archived ? await runUnarchive({ id: patient.id }) : await runArchive({ id: patient.id });
    if (!res.error) onChanged();
  };

  if (editing) {
    return (
      <section aria-labelledby="record-heading" className="clinical-panel">
        <h2 id="record-heading">Edit record</h2>
        <PatientForm
          initial={patient}
          submitLabel="Save record"
          busy={update.fetching}
          error={update.error}
          onSubmit={(input) =>
            void runUpdate({ id: patient.id, input }).then((res) => {
              if (res.data) {
                setEditing(false);
                onChanged();
              }
            })
          }
        >
          <Button variant="quiet" onClick={() => setEditing(false)}>
            Cancel
          </Button>
        </PatientForm>
      </section>
    );
  }

  const toggling = archive.fetching || unarchive.fetching;
  return (
    <>
      <dl className="clinical-facts">
        <div>
          <dt>External ID</dt>
          <dd>{patient.externalId}</dd>
        </div>
        <div>
          <dt>Date of birth</dt>
          <dd>{patient.dateOfBirth ?? 'Not recorded'}</dd>
        </div>
        <div>
          <dt>Sex</dt>
          <dd>{patient.sex ? SEX[patient.sex] : 'Not recorded'}</dd>
        </div>
        <div>
          <dt>Owner</dt>
          <dd>{owner}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>{formatDate(patient.createdAt)}</dd>
        </div>
      </dl>
      {patient.notes ? <p className="clinical-notes">{patient.notes}</p> : null}
      <div className="clinical-actions">
        {patient.archived ? null : (
          <Button variant="quiet" onClick={() => setEditing(true)}>
            Edit record
          </Button>
        )}
        <Button variant="quiet" busy={toggling} onClick={() => void toggleArchive()}>
          {patient.archived ? 'Unarchive record' : 'Archive record'}
        </Button>
        <ErrorMessage errors={apiErrors(archive.error ?? unarchive.error)} />
      </div>
    </>
  );
}
