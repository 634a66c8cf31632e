/**
 * The patients module: patient records, their lesions and timeline, and the access policy (who
 * may see what) that every module reading patient data goes through.
 */
import { LesionResolver } from './lesions.resolver';
import { PatientResolver } from './patients.resolver';
import { TimelineResolver } from './timeline.resolver';
import {
  NoteAddedActorResolver,
  PatientChangedActorResolver,
  PatientCreatedActorResolver,
} from './patient-navigation.resolver';

export {
  requireAccess,
  findAccessible,
  visiblePatientsSql,
  visiblePatientIdSql,
  PATIENT_DATA_ROLES,
  type AccessOptions,
  type AccessTarget,
  type Caller,
  type Permission,
  type SqlCondition,
} from './access-policy';

/** Types other modules add fields to (images: Patient.images, jobs: Patient.predictions, ...). */
export {
  PatientType,
  LesionType,
  HistoryArgs,
  ResultHistoryArgs,
  historyWindow,
  type HistoryWindow,
} from './patients.types';
export { ImageUploadedEvent } from './timeline.types';
export { lesionById } from './patients.loaders';
/** Access-checked rows by id, batched per request (navigation fields), and `node(id)` for patients and lesions. */
export { accessibleById } from './access.loaders';
export { patientNodes } from './patient-navigation.resolver';

export const patientResolvers = [
  PatientResolver,
  LesionResolver,
  TimelineResolver,
  PatientCreatedActorResolver,
  PatientChangedActorResolver,
  NoteAddedActorResolver,
] as const;
