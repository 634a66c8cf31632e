// New patient: the PatientInput form; the new record's page once created.
import type { ReactNode } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMutation } from 'urql';
import { PageTitle } from '../../ui';
import { CreatePatientMutation } from './operations';
import { PatientForm } from './patient-form';

export function PatientNewPage(): ReactNode {
  const navigate = useNavigate();
  const [{ fetching, error }, create] = useMutation(CreatePatientMutation);
  return (
    <section className="page clinical">
      <p className="clinical-back">
        <Link to="/patients">← Patients</Link>
      </p>
      <PageTitle>New patient</PageTitle>
      <PatientForm
        submitLabel="Create patient"
        busy={fetching}
        error={error}
        onSubmit={(input) =>
          void create({ input }).then((res) => {
            const id = res.data?.createPatient.id;
            if (id) navigate(`/patients/${encodeURIComponent(id)}`);
          })
        }
      />
    </section>
  );
}
