/** The system module: who is signed in, the process's health (for /readyz and `systemStatus`), the server clock. */
export { SystemResolver, UserFieldsResolver } from './system.resolver';
export { systemStatus } from './system-status';
export { DependencyState, type DependencyStatus, type SystemStatus } from './system.types';
