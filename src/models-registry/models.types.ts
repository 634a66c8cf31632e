import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Node } from '../schema/node';
import { DeviceType, ModelTask } from './enums.types';

export enum ModelVersionStatus {
  LOADING = 'LOADING',
  READY = 'READY',
  ACTIVE = 'ACTIVE',
  FAILED = 'FAILED',
  DRAINING = 'DRAINING',
  UNLOADED = 'UNLOADED',
}
registerEnumType(ModelVersionStatus, {
  name: 'ModelVersionStatus',
  description:
    'LOADING -> READY (loaded, golden cases passed) -> ACTIVE -> DRAINING (swapped out, requests finishing) -> UNLOADED; FAILED: its last load failed',
  valuesConfig: {
    LOADING: { description: 'A session is being created, warmed and checked' },
    READY: { description: 'Loaded and checked; serves only jobs pinned to this version' },
    ACTIVE: { description: 'The model’s active version: serves its requests' },
    FAILED: { description: 'Its last load failed (see error); a later activation retries' },
    DRAINING: {
      description: 'Swapped out or unloaded; finishing the requests and pinned jobs that still hold its session',
    },
    UNLOADED: { description: 'No session in this process; activating it loads it again' },
  },
});

export enum ModelRegistryEventType {
  LOADED = 'LOADED',
  ACTIVATED = 'ACTIVATED',
  FAILED = 'FAILED',
  FELL_BACK = 'FELL_BACK',
  UNLOADED = 'UNLOADED',
  DRAINING = 'DRAINING',
}
registerEnumType(ModelRegistryEventType, {
  name: 'ModelRegistryEventType',
  description: 'What happened to a model version in one process (modelRegistryEvents)',
  valuesConfig: {
    LOADED: { description: 'A session was created, warmed and passed its golden cases' },
    ACTIVATED: { description: 'It became the active version (previousVersion: the one it replaced)' },
    FAILED: { description: 'A load, activation, re-placement or package check failed (message says why)' },
    FELL_BACK: { description: 'The device asked for could not start; it runs on the next one (device.fallbackReason)' },
    UNLOADED: { description: 'Its session was released' },
    DRAINING: { description: 'Swapped out; its running requests and pinned jobs are finishing' },
  },
});

@ObjectType('ModelDevice', {
  description: 'Where a version runs: the device asked for, the one that started, and why they differ',
})
export class ModelDeviceType {
  @Field(() => DeviceType, { description: 'The device asked for (the first of a preference list)' })
  requested!: DeviceType;

  @Field(() => DeviceType, { description: 'The device the session runs on (CPU when every device asked for failed)' })
  actual!: DeviceType;

  @Field(() => String, {
    nullable: true,
    description: "onnxruntime's reason for each device that could not start, null when none failed",
  })
  fallbackReason!: string | null;
}

@ObjectType('ModelVersionStats', { description: 'Requests served by this version in this process since it was loaded' })
export class ModelVersionStatsType {
  @Field(() => Int, { description: 'images run (failed runs included)' })
  requests!: number;

  @Field(() => Int, { description: 'runs that failed (counted in requests too)' })
  errors!: number;

  @Field(() => Float, {
    nullable: true,
    description: 'median session run time, milliseconds (a 1024-run sample); null before the first run',
  })
  p50Ms!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: '95th percentile session run time, milliseconds (a 1024-run sample); null before the first run',
  })
  p95Ms!: number | null;
}

/** Ids of models and their versions: `model:<name>` and `model:<name>@<version>` (a name has no "@"), never a uuid. */
export const modelId = (name: string): string => `model:${name}`;
export const modelVersionId = (name: string, version: string): string => `model:${name}@${version}`;

@ObjectType('ModelVersion', { description: 'One version of a model package', implements: Node })
export class ModelVersionType {
  @Field(() => ID, { description: '`model:<name>@<version>`: the same in every process and across restarts' })
  id!: string;

  @Field(() => String, { description: 'The model’s name (Model.name)' })
  name!: string;

  @Field(() => String, { description: 'semantic version' })
  version!: string;

  @Field(() => ModelTask, { description: 'What the version computes' })
  task!: ModelTask;

  @Field(() => ModelVersionStatus, { description: 'Lifecycle state in the answering process' })
  status!: ModelVersionStatus;

  @Field(() => Boolean, { description: "whether this is the model's active version in this process" })
  active!: boolean;

  @Field(() => Boolean, {
    description:
      'false for a version only recorded in the database (uploaded to another process) that this process has never loaded; activating it here loads it from shared storage',
  })
  loaded!: boolean;

  @Field(() => [String], { description: 'classification labels, in logit order' })
  labels!: string[];

  @Field(() => [String], { description: 'the labels that count as malignant' })
  malignantLabels!: string[];

  @Field(() => ModelDeviceType, {
    nullable: true,
    description:
      'Where it was last placed (in this process, or as another process recorded it); null when it was never loaded',
  })
  device!: ModelDeviceType | null;

  @Field(() => String, { description: 'sha256 of the ONNX file' })
  sha256!: string;

  @Field(() => Float, {
    nullable: true,
    description: 'milliseconds its current session took to load, warm and pass its golden cases',
  })
  loadMs!: number | null;

  @Field(() => Date, { nullable: true, description: 'When its current session was loaded; null when not loaded' })
  loadedAt!: Date | null;

  @Field(() => Date, { description: 'When the version was first recorded (installed or discovered)' })
  createdAt!: Date;

  @Field(() => String, {
    nullable: true,
    description: 'id of the admin who uploaded it; null for packages found on disk',
  })
  uploadedBy!: string | null;

  @Field(() => String, { nullable: true, description: 'why its last load or golden check failed' })
  error!: string | null;

  @Field(() => ModelVersionStatsType, { description: 'Runs in the answering process since the version was loaded' })
  stats!: ModelVersionStatsType;
}

@ObjectType('Model', { description: 'A model name and its versions', implements: Node })
export class ModelType {
  @Field(() => ID, { description: '`model:<name>`: the same in every process and across restarts' })
  id!: string;

  @Field(() => String, {
    description: 'Unique name, [a-z0-9][a-z0-9-]{2,63}; what model(name) and EnsembleMemberInput.model take',
  })
  name!: string;

  @Field(() => ModelTask, { description: 'What the model computes (its newest version’s task)' })
  task!: ModelTask;

  @Field(() => String, { nullable: true, description: 'Version serving requests; null when none is active' })
  activeVersion!: string | null;

  @Field(() => [ModelVersionType], { description: 'newest first' })
  versions!: ModelVersionType[];
}

@ObjectType('ModelRegistryEvent', { description: 'Something that happened to a model version in one server process' })
export class ModelRegistryEventObject {
  @Field(() => ModelRegistryEventType, { description: 'What happened' })
  type!: ModelRegistryEventType;

  @Field(() => String, {
    nullable: true,
    description: 'null when a package was refused before its manifest could be read',
  })
  name!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'The version concerned; null when a package was refused before its manifest could be read',
  })
  version!: string | null;

  @Field(() => Date, { description: 'When it happened' })
  at!: Date;

  @Field(() => ModelDeviceType, { nullable: true, description: 'Where the version runs, when the event concerns that' })
  device!: ModelDeviceType | null;

  @Field(() => String, { nullable: true, description: 'ACTIVATED: the version it replaced' })
  previousVersion!: string | null;

  @Field(() => String, { nullable: true, description: 'Details, e.g. why a load failed; null when none' })
  message!: string | null;

  @Field(() => String, { description: 'the server process it happened in' })
  processId!: string;
}
