import type { NonEmptyArray } from 'type-graphql';
import { createNodeResolver } from '../schema/node';
import { systemResolvers } from '../modules/system';
import { logsResolvers } from '../modules/logs';
import { accountNodes, accountsResolvers } from '../modules/accounts';
import { AuditLogResolver, auditNodes } from '../modules/audit';
import { EnsemblesResolver, ModelsResolver, ModelVersionUploaderResolver, modelNodes } from '../models-registry';
import { jobNodes, jobsResolvers } from '../modules/jobs';
import { ResearchResolver } from '../modules/research';
import { patientNodes, patientResolvers } from '../modules/patients';
import { imageNodes, imageResolvers } from '../modules/images';
import { QuotasResolver } from '../modules/quotas';
import { reportNodes, reportResolvers } from '../modules/reports';

/** Every resolver class in the schema. Features add theirs here. */
export const resolvers: NonEmptyArray<Function> = [
  ...systemResolvers,
  ...logsResolvers,
  ...accountsResolvers,
  AuditLogResolver,
  ModelsResolver,
  EnsemblesResolver,
  ModelVersionUploaderResolver,
  ...patientResolvers,
  ...imageResolvers,
  QuotasResolver,
  ...jobsResolvers,
  ResearchResolver,
  ...reportResolvers,
  // node(id): how each module finds its objects by id.
  createNodeResolver([
    ...patientNodes,
    ...imageNodes,
    ...jobNodes,
    ...accountNodes,
    ...auditNodes,
    ...modelNodes,
    ...reportNodes,
  ]),
];
