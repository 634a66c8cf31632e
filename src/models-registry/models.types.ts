import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Node } from '../schema/node';

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
});

export enum ModelRegistryEventType {
  LOADED = 'LOADED',
  ACTIVATED = 'ACTIVATED',
  FAILED = 'FAILED',
  FELL_BACK = 'FELL_BACK',
  UNLOADED = 'UNLOADED',
  DRAINING = 'DRAINING',
}
registerEnumType(ModelRegistryEventType, { name: 'ModelRegistryEventType' });

@ObjectType('ModelDevice', {
  description: 'Where a version runs: the device asked for, the one that started, and why they differ',
})
export class ModelDeviceType {
  @Field(() => String, { description: 'cpu, webgpu, cuda[:N] or tensorrt[:N] (the first of a preference list)' })
  requested!: string;

  @Field(() => String)
  actual!: string;

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

  @Field(() => Int)
  errors!: number;

  @Field(() => Float, { nullable: true, description: 'median session run time, milliseconds' })
  p50Ms!: number | null;

  @Field(() => Float, { nullable: true })
  p95Ms!: number | null;
}

/** Ids of models and their versions: `model:<name>` and `model:<name>@<version>` (a name has no "@"), never a uuid. */
export const modelId = (name: string): string => `model:${name}`;
export const modelVersionId = (name: string, version: string): string => `model:${name}@${version}`;

@ObjectType('ModelVersion', { description: 'One version of a model package', implements: Node })
export class ModelVersionType {
  @Field(() => ID, { description: '`model:<name>@<version>`: the same in every process and across restarts' })
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { description: 'semantic version' })
  version!: string;

  @Field(() => String, { description: 'classification or segmentation' })
  task!: string;

  @Field(() => ModelVersionStatus)
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

  @Field(() => ModelDeviceType, { nullable: true })
  device!: ModelDeviceType | null;

  @Field(() => String, { description: 'sha256 of the ONNX file' })
  sha256!: string;

  @Field(() => Float, {
    nullable: true,
    description: 'milliseconds its current session took to load, warm and pass its golden cases',
  })
  loadMs!: number | null;

  @Field(() => Date, { nullable: true })
  loadedAt!: Date | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => String, {
    nullable: true,
    description: 'id of the admin who uploaded it; null for packages found on disk',
  })
  uploadedBy!: string | null;

  @Field(() => String, { nullable: true, description: 'why its last load or golden check failed' })
  error!: string | null;

  @Field(() => ModelVersionStatsType)
  stats!: ModelVersionStatsType;
}

@ObjectType('Model', { description: 'A model name and its versions', implements: Node })
export class ModelType {
  @Field(() => ID, { description: '`model:<name>`: the same in every process and across restarts' })
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  task!: string;

  @Field(() => String, { nullable: true })
  activeVersion!: string | null;

  @Field(() => [ModelVersionType], { description: 'newest first' })
  versions!: ModelVersionType[];
}

@ObjectType('ModelRegistryEvent', { description: 'Something that happened to a model version in one server process' })
export class ModelRegistryEventObject {
  @Field(() => ModelRegistryEventType)
  type!: ModelRegistryEventType;

  @Field(() => String, {
    nullable: true,
    description: 'null when a package was refused before its manifest could be read',
  })
  name!: string | null;

  @Field(() => String, { nullable: true })
  version!: string | null;

  @Field(() => Date)
  at!: Date;

  @Field(() => ModelDeviceType, { nullable: true })
  device!: ModelDeviceType | null;

  @Field(() => String, { nullable: true, description: 'ACTIVATED: the version it replaced' })
  previousVersion!: string | null;

  @Field(() => String, { nullable: true })
  message!: string | null;

  @Field(() => String, { description: 'the server process it happened in' })
  processId!: string;
}
