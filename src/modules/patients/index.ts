/** The patients module's public API: who may see what (the access policy), for every module that reads patient data. */
export {
  requireAccess,
  findAccessible,
  visiblePatientsSql,
  visiblePatientIdSql,
  type AccessOptions,
  type AccessTarget,
  type Caller,
  type Permission,
  type SqlCondition,
} from './access-policy';
