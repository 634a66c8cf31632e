// The clinical pages (patients, upload, results) and their navigation link; the app's route table mounts the
// routes inside the signed-in layout. Researchers get no patient data, so the pages are for clinicians and admins.
import type { ReactNode } from 'react';
import type { RouteObject } from 'react-router';
import { RequireAuth } from '../../app/auth';
import type { NavItem } from '../../app/nav';
import { PatientNewPage } from './patient-new';
import { PatientPage } from './patient-page';
import { PatientsListPage } from './patients-list';
import { ResultPage } from './result-page';
import { UploadPage } from './upload-page';
import './clinical.css';
import './results.css';

const ROLES = ['ADMIN', 'CLINICIAN'] as const;

const clinical = (page: ReactNode): ReactNode => <RequireAuth roles={ROLES}>{page}</RequireAuth>;

export const clinicalRoutes: RouteObject[] = [
  { path: 'patients', element: clinical(<PatientsListPage />) },
  { path: 'patients/new', element: clinical(<PatientNewPage />) },
  { path: 'patients/:patientId', element: clinical(<PatientPage />) },
  { path: 'patients/:patientId/upload', element: clinical(<UploadPage />) },
  { path: 'images/:imageId', element: clinical(<ResultPage />) },
];

export const clinicalNav: NavItem[] = [{ to: '/patients', label: 'Patients', roles: ROLES }];
