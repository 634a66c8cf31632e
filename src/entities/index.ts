import { User } from './user';
import { authEntities } from './auth';
import { ModelVersion } from './model-version';
import { ModelActivation } from './model-activation';
import { ClassificationEnsemble } from './classification-ensemble';
import { Patient, PatientShare, PatientEvent } from './patient';
import { Lesion } from './lesion';
import { Image } from './image';
import { InferenceJob } from './inference-job';
import { Prediction } from './prediction';
import { PredictionUsage } from './prediction-usage';
import { Segmentation } from './segmentation';
import { Report, ReportPatient } from './report';

export * from './base';
export * from './user';
export * from './auth';
export * from './model-version';
export * from './model-activation';
export * from './classification-ensemble';
export * from './patient';
export * from './lesion';
export * from './image';
export * from './inference-job';
export * from './prediction';
export * from './prediction-usage';
export * from './segmentation';
export * from './report';

/** Every entity MikroORM knows. Add new entities here (and a migration: `npm run migration:create`). */
export const entities = [
  User,
  ...authEntities,
  ModelVersion,
  ModelActivation,
  ClassificationEnsemble,
  Patient,
  PatientShare,
  PatientEvent,
  Lesion,
  Image,
  InferenceJob,
  Prediction,
  PredictionUsage,
  Segmentation,
  Report,
  ReportPatient,
];
