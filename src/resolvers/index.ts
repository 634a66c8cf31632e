import type { NonEmptyArray } from 'type-graphql';
import { SystemResolver, UserFieldsResolver } from './system';
import { AuthResolver } from './auth';
import { AuthAdminResolver, UserSecurityFieldsResolver } from './auth-admin';
import { ModelsResolver } from './models';
import { inferenceResolvers } from './inference';
import { ImageFieldsResolver, LesionFieldsResolver, PatientResolver } from './patients';

/** Every resolver class in the schema. Features add theirs here. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const resolvers: NonEmptyArray<Function> = [SystemResolver, UserFieldsResolver, AuthResolver, AuthAdminResolver, UserSecurityFieldsResolver, ModelsResolver, PatientResolver, LesionFieldsResolver, ImageFieldsResolver, ...inferenceResolvers];
