/** The system module: who is signed in, the process's health (for /readyz and `systemStatus`), the server clock, and monitoring of every process. */
import { SystemResolver, UserFieldsResolver } from './system.resolver';
import { ModelUsageResolver, SystemStatusFieldsResolver } from './monitoring.resolver';
import { AdminJobsResolver } from './admin-jobs.resolver';
import type { Monitoring } from './monitoring';

export { SystemResolver, UserFieldsResolver } from './system.resolver';
export { systemStatus } from './system-status';
export { DependencyState, type DependencyStatus, type SystemStatus } from './system.types';
export { startMonitoring, loadedModels, type Monitoring, type MonitoringDeps } from './monitoring';

export const systemResolvers = [
  SystemResolver,
  UserFieldsResolver,
  SystemStatusFieldsResolver,
  ModelUsageResolver,
  AdminJobsResolver,
] as const;

declare module '../../schema/context' {
  interface Services {
    /** This process's heartbeat, log bus and usage counters, and reads of every process's. */
    monitoring: Monitoring;
  }
}
