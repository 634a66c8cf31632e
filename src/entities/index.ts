import { User } from './user';

export * from './base';
export * from './user';

/** Every entity MikroORM knows. Add new entities here (and a migration: `npm run migration:create`). */
export const entities = [User];
