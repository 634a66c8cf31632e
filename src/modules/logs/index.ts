/** Server logs for admins: each process's recent lines (serverLogs) and a live tail (serverLogStream), across processes. */
import { LogsResolver } from './logs.resolver';
import type { LogBus } from './log-bus';

export { LogBus, type LogSource, type LogBusDeps } from './log-bus';
export const logsResolvers = [LogsResolver];

declare module '../../schema/context' {
  interface Services {
    /** Log lines of every api and worker process (the system module's monitoring starts it). */
    logs: LogBus;
  }
}
