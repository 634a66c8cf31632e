// A patient: the record (edit, archive), its lesions, the image grid, the timeline, sharing and the downloads.
import { useState, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { useQuery } from 'urql';
import { ErrorMessage, PageTitle, ProgressBar, apiErrors } from '../../ui';
import { Downloads } from './downloads';
import { ImageGrid } from './image-grid';
import { Lesions } from './lesions';
import { PatientQuery } from './operations';
import { PatientRecord } from './patient-record';
import { Sharing } from './sharing';
import { Timeline } from './timeline';

function PatientPageBody({ id }: { id: string }): ReactNode {
  const [{ data, fetching, error }, refetch] = useQuery({ query: PatientQuery, variables: { id } });
  const patient = data?.patient;
  // A change made here (a lesion, a share) also shows in the timeline: remount it to read it again.
  const [revision, setRevision] = useState(0);
  const reload = (): void => {
    refetch({ requestPolicy: 'network-only' });
    setRevision((r) => r + 1);
  };

  if (!patient) {
    return (
      <section className="page clinical">
        <p className="clinical-back">
          <Link to="/patients">← Patients</Link>
        </p>
        <PageTitle>Patient</PageTitle>
        {fetching ? <ProgressBar label="Loading the patient" /> : null}
        <ErrorMessage errors={apiErrors(error)} />
      </section>
    );
  }

  const imageNames = new Map(
    patient.images.edges.map(({ node }) => [node.id, node.originalName ?? 'an unnamed image'] as const),
  );
  return (
    <section className="page clinical">
      <p className="clinical-back">
        <Link to="/patients">← Patients</Link>
      </p>
      <PageTitle
        title={patient.displayName}
        actions={
          patient.archived ? null : (
            <Link className="button button-primary" to={`/patients/${encodeURIComponent(id)}/upload`}>
              Upload images
            </Link>
          )
        }
      >
        {patient.displayName}
        {patient.archived ? <span className="clinical-badge">archived</span> : null}
      </PageTitle>
      <PatientRecord patient={patient} onChanged={reload} />

      <Lesions patientId={id} lesions={patient.lesions} archived={patient.archived} onChanged={reload} />
      <ImageGrid images={patient.images.edges.map((e) => e.node)} total={patient.images.totalCount} />
      <Sharing patientId={id} sharedWith={patient.sharedWith} onChanged={reload} />
      <Downloads
        title="Downloads for this patient"
        input={{ patientId: id }}
        kinds={['PDFS_ZIP', 'CSV', 'MASKS_ZIP']}
      />
      <Timeline patientId={id} archived={patient.archived} revision={revision} imageNames={imageNames} />
    </section>
  );
}

/** Keyed by the id in the path: moving to another record starts afresh (no job or choice of the previous one). */
export function PatientPage(): ReactNode {
  const id = useParams().patientId ?? '';
  return <PatientPageBody key={id} id={id} />;
}
