import type { NonEmptyArray } from 'type-graphql';
import { SystemResolver, UserFieldsResolver } from '../modules/system';
import { accountsResolvers } from '../modules/accounts';
import { AuditLogResolver } from '../modules/audit';
import { ModelsResolver } from '../models-registry';
import { jobsResolvers } from '../modules/jobs';
import { ResearchResolver } from '../modules/research';
import { patientResolvers } from '../modules/patients';
import { imageResolvers } from '../modules/images';
import { QuotasResolver } from '../modules/quotas';

/** Every resolver class in the schema. Features add theirs here. */
export const resolvers: NonEmptyArray<Function> = [
  SystemResolver,
  UserFieldsResolver,
  ...accountsResolvers,
  AuditLogResolver,
  ModelsResolver,
  ...patientResolvers,
  ...imageResolvers,
  QuotasResolver,
  ...jobsResolvers,
  ResearchResolver,
];
