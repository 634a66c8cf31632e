import { User } from './user';
import { authEntities } from './auth';

export * from './base';
export * from './user';
export * from './auth';

/** Every entity MikroORM knows. Add new entities here (and a migration: `npm run migration:create`). */
export const entities = [User, ...authEntities];
