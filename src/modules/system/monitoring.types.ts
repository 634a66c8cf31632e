import { Field, Float, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: "A process's memory (process.memoryUsage), in bytes" })
export class MemoryUsageType {
  @Field(() => Float, { description: 'Resident set size' }) rssBytes!: number;
  @Field(() => Float, { description: 'V8 heap in use' }) heapUsedBytes!: number;
  @Field(() => Float, { description: 'V8 heap reserved' }) heapTotalBytes!: number;
  @Field(() => Float, { description: 'Memory of C++ objects bound to JavaScript (buffers, sharp, onnxruntime)' })
  externalBytes!: number;
}

@ObjectType({
  description:
    "Event-loop delay over the process's last heartbeat window (perf_hooks, sampled every 20 ms): how long ready work waited for the loop",
})
export class EventLoopDelayType {
  @Field(() => Float) meanMs!: number;
  @Field(() => Float) p50Ms!: number;
  @Field(() => Float) p99Ms!: number;
  @Field(() => Float) maxMs!: number;
  @Field(() => Float, { description: 'Length of the window the figures cover' }) windowSeconds!: number;
}

@ObjectType({ description: 'A model version a process holds, and the device its session runs on' })
export class LoadedModelType {
  @Field(() => String) name!: string;
  @Field(() => String) version!: string;
  @Field(() => String, { description: 'Device the session actually runs on (cpu, cuda:0, ...)' }) device!: string;
  @Field(() => String, { description: 'ModelVersionStatus as this process sees it (ACTIVE, READY, DRAINING...)' })
  status!: string;
  @Field(() => Boolean, { description: "Whether it is its model's active version" }) active!: boolean;
}

@ObjectType({
  description: 'An api or worker process, as its last heartbeat (or, for the answering one, now) shows it',
})
export class ProcessStatusType {
  @Field(() => String, { description: 'host:pid:random (the id log lines name as their source)' }) id!: string;
  @Field(() => String, { description: 'api or worker' }) role!: string;
  @Field(() => String) host!: string;
  @Field(() => Int) pid!: number;
  @Field(() => Date) startedAt!: Date;
  @Field(() => Date, { description: 'Its last heartbeat (every MONITOR_INTERVAL_MS)' }) seenAt!: Date;
  @Field(() => MemoryUsageType) memory!: MemoryUsageType;
  @Field(() => EventLoopDelayType) eventLoopDelay!: EventLoopDelayType;
  @Field(() => [LoadedModelType], { description: 'Model versions it holds loaded, with their device' })
  models!: LoadedModelType[];
}

@ObjectType({ description: 'Usage of one model version in a window, from every api and worker process' })
export class ModelVersionUsageType {
  @Field(() => String) model!: string;
  @Field(() => String) version!: string;
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

@ObjectType({ description: 'Per-version usage over a window (modelUsage)' })
export class ModelUsageReportType {
  @Field(() => Date) since!: Date;
  @Field(() => Date) until!: Date;
  @Field(() => String, {
    description:
      'minute (windows up to a day within the last 48 hours) or hour: the window is widened to whole buckets',
  })
  resolution!: string;
  @Field(() => [ModelVersionUsageType]) versions!: ModelVersionUsageType[];
}
