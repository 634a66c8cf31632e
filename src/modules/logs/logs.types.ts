import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum LogLevel {
  TRACE = 'TRACE',
  DEBUG = 'DEBUG',
  INFO = 'INFO',
  WARN = 'WARN',
  ERROR = 'ERROR',
  FATAL = 'FATAL',
}
registerEnumType(LogLevel, {
  name: 'LogLevel',
  description: "A log line's severity (pino's levels); a filter takes this level and the ones above it",
  valuesConfig: {
    TRACE: { description: 'pino 10: finest detail' },
    DEBUG: { description: 'pino 20: detail for developers' },
    INFO: { description: 'pino 30: normal operation (requests, jobs, start and stop)' },
    WARN: { description: 'pino 40: something went wrong and was handled' },
    ERROR: { description: 'pino 50: an operation failed' },
    FATAL: { description: 'pino 60: the process cannot go on' },
  },
});

@ObjectType('LogSource', { description: 'The api or worker process a log line comes from' })
export class LogSourceType {
  @Field(() => String, { description: 'host:pid:random, unique per process start (also in systemStatus.processes)' })
  id!: string;

  @Field(() => String, { description: 'api (dermagraph serve) or worker (dermagraph worker)' })
  role!: string;

  @Field(() => String, { description: 'Host name of the machine or container' })
  host!: string;

  @Field(() => Int, { description: 'Process id on that host' })
  pid!: number;
}

@ObjectType({ description: 'One log line of one process, as written (secrets already redacted)' })
export class ServerLogLine {
  @Field(() => Date, { description: 'When it was written' })
  time!: Date;

  @Field(() => LogLevel, { description: 'Its severity' })
  level!: LogLevel;

  @Field(() => String, { nullable: true, description: 'Its message (pino `msg`), if any' })
  message?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'The request it belongs to (the x-request-id answered to the client); lines a worker writes for a job carry the id of the request that queued it',
  })
  requestId?: string | null;

  @Field(() => LogSourceType, { description: 'The process that wrote it' })
  source!: LogSourceType;

  @Field(() => String, { description: 'The whole JSON line (cut at 8192 characters)' })
  json!: string;
}

@ObjectType({ description: 'Whether a process answered a serverLogs query' })
export class LogSourceAnswer {
  @Field(() => LogSourceType, { description: 'The process asked' })
  source!: LogSourceType;

  @Field(() => Boolean, {
    description: 'False: it was seen in the last minute but did not answer in time (its lines are missing)',
  })
  answered!: boolean;
}

@ObjectType({ description: 'Recent log lines of every api and worker process (serverLogs)' })
export class ServerLogs {
  @Field(() => [ServerLogLine], { description: 'Oldest first, merged by time across processes' })
  lines!: ServerLogLine[];

  @Field(() => [LogSourceAnswer], { description: 'The processes asked, and whether each answered' })
  sources!: LogSourceAnswer[];
}
