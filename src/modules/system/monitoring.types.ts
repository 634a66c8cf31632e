import { Field, Float, Int, ObjectType } from 'type-graphql';

@ObjectType('MemoryUsage', { description: "A process's memory (process.memoryUsage), in bytes" })
export class MemoryUsageType {
  @Field(() => Float, { description: 'Resident set size' }) rssBytes!: number;
  @Field(() => Float, { description: 'V8 heap in use' }) heapUsedBytes!: number;
  @Field(() => Float, { description: 'V8 heap reserved' }) heapTotalBytes!: number;
  @Field(() => Float, { description: 'Memory of C++ objects bound to JavaScript (buffers, sharp, onnxruntime)' })
  externalBytes!: number;
}

@ObjectType('EventLoopDelay', {
  description:
    "Event-loop delay over the process's last heartbeat window (perf_hooks, sampled every 20 ms): how long ready work waited for the loop, the sampling interval not counted (an idle loop reads 0)",
})
export class EventLoopDelayType {
  @Field(() => Float, { description: 'Mean delay, ms' }) meanMs!: number;
  @Field(() => Float, { description: 'Median delay, ms' }) p50Ms!: number;
  @Field(() => Float, { description: '99th percentile delay, ms' }) p99Ms!: number;
  @Field(() => Float, { description: 'Longest delay, ms' }) maxMs!: number;
  @Field(() => Float, { description: 'Length of the window the figures cover' }) windowSeconds!: number;
}

@ObjectType('LoadedModel', { description: 'A model version a process holds, and the device its session runs on' })
export class LoadedModelType {
  @Field(() => String, { description: 'Model.name' }) name!: string;
  @Field(() => String, { description: 'ModelVersion.version' }) version!: string;
  @Field(() => String, { description: 'Device the session actually runs on (cpu, cuda:0, ...)' }) device!: string;
  @Field(() => String, { description: 'ModelVersionStatus as this process sees it (ACTIVE, READY, DRAINING...)' })
  status!: string;
  @Field(() => Boolean, { description: "Whether it is its model's active version" }) active!: boolean;
}

@ObjectType('ProcessStatus', {
  description: 'An api or worker process, as its last heartbeat (or, for the answering one, now) shows it',
})
export class ProcessStatusType {
  @Field(() => String, { description: 'host:pid:random (the id log lines name as their source)' }) id!: string;
  @Field(() => String, { description: 'api or worker' }) role!: string;
  @Field(() => String, { description: 'Host name of its machine or container' }) host!: string;
  @Field(() => Int, { description: 'Process id on that host' }) pid!: number;
  @Field(() => Date, { description: 'When it started' }) startedAt!: Date;
  @Field(() => Date, { description: 'Its last heartbeat (every MONITOR_INTERVAL_MS)' }) seenAt!: Date;
  @Field(() => MemoryUsageType, { description: 'Its memory at that time' }) memory!: MemoryUsageType;
  @Field(() => EventLoopDelayType, { description: 'Its event-loop delay over its last heartbeat window' })
  eventLoopDelay!: EventLoopDelayType;
  @Field(() => [LoadedModelType], { description: 'Model versions it holds loaded, with their device' })
  models!: LoadedModelType[];
}

@ObjectType('ModelVersionUsage', {
  description: 'Usage of one model version in a window, from every api and worker process',
})
export class ModelVersionUsageType {
  @Field(() => String, { description: 'Model.name' }) model!: string;
  @Field(() => String, { description: 'ModelVersion.version' }) version!: string;
  @Field(() => Int, { description: 'Images run (failed runs included)' }) requests!: number;
  @Field(() => Int, { description: 'Images whose run failed' }) failures!: number;
  @Field(() => Float, {
    nullable: true,
    description: 'Median session run time, ms, estimated from latency buckets summed over processes; null without runs',
  })
  p50Ms?: number | null;
  @Field(() => Float, { nullable: true, description: '95th percentile session run time, ms (as p50Ms)' })
  p95Ms?: number | null;
}

@ObjectType('ModelUsageReport', { description: 'Per-version usage over a window (modelUsage)' })
export class ModelUsageReportType {
  @Field(() => Date, { description: 'Start of the window asked for' }) since!: Date;
  @Field(() => Date, { description: 'End of the window asked for' }) until!: Date;
  @Field(() => String, {
    description:
      'minute (windows up to a day within the last 48 hours) or hour: the window is widened to whole buckets',
  })
  resolution!: string;
  @Field(() => [ModelVersionUsageType], { description: 'Every version that ran in the window, by model and version' })
  versions!: ModelVersionUsageType[];
}
