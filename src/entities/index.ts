import { User } from './user';
import { authEntities } from './auth';
import { InferenceJob } from './inference-job';
import { Prediction } from './prediction';
import { Segmentation } from './segmentation';

export * from './base';
export * from './user';
export * from './auth';
export * from './inference-job';
export * from './prediction';
export * from './segmentation';

/** Every entity MikroORM knows. Add new entities here (and a migration: `npm run migration:create`). */
export const entities = [User, ...authEntities, InferenceJob, Prediction, Segmentation];
