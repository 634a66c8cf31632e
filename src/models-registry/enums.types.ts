import { Field, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { badInput } from '../infra/errors';
import { formatDevice, parseDevice, type Device } from './runtime/devices';
import { DEVICE_PATTERN, type Manifest } from './package/manifest';

/** A model's task, as its manifest says (GraphQL: CLASSIFICATION, SEGMENTATION; the value is the manifest's word). */
export const ModelTask = {
  CLASSIFICATION: 'classification',
  SEGMENTATION: 'segmentation',
} as const satisfies Record<string, Manifest['task']>;
export type ModelTask = (typeof ModelTask)[keyof typeof ModelTask];

registerEnumType(ModelTask, {
  name: 'ModelTask',
  description: 'What a model computes (its manifest’s task)',
  valuesConfig: {
    CLASSIFICATION: { description: 'Labels with probabilities for an image (classifyImage, classifyImages)' },
    SEGMENTATION: { description: 'A lesion probability map for an image (segmentImages)' },
  },
});

/** The kinds of placement target (`cpu`, `webgpu`, `cuda[:N]`, `tensorrt[:N]` without the index). */
export const DeviceKind = {
  CPU: 'cpu',
  WEBGPU: 'webgpu',
  CUDA: 'cuda',
  TENSORRT: 'tensorrt',
} as const satisfies Record<string, Device['kind']>;
export type DeviceKind = (typeof DeviceKind)[keyof typeof DeviceKind];

registerEnumType(DeviceKind, {
  name: 'DeviceKind',
  description: 'An onnxruntime execution provider a model can run on',
  valuesConfig: {
    CPU: { description: 'The CPU; always available, and where every other device falls back to' },
    WEBGPU: { description: 'WebGPU (Dawn); falls back to CPU' },
    CUDA: { description: 'An NVIDIA GPU through CUDA; falls back to CPU' },
    TENSORRT: { description: 'An NVIDIA GPU through TensorRT; falls back to CUDA on the same GPU, then CPU' },
  },
});

@ObjectType('Device', {
  description: 'A device a model asked for or runs on, e.g. { kind: CUDA, index: 1 } for cuda:1',
})
export class DeviceType {
  @Field(() => DeviceKind, { description: 'The execution provider' })
  kind!: DeviceKind;

  @Field(() => Int, {
    nullable: true,
    description:
      'Which GPU (0-based) for CUDA and TENSORRT; null: the provider’s default (0), and always for CPU, WEBGPU',
  })
  index!: number | null;
}

@InputType('DeviceInput', { description: 'A device to run a model on, e.g. { kind: CUDA, index: 1 } for cuda:1' })
export class DeviceInput {
  @Field(() => DeviceKind, { description: 'The execution provider' })
  kind!: DeviceKind;

  @Field(() => Int, {
    nullable: true,
    description: 'Which GPU, 0 to 99, for CUDA and TENSORRT only; default: the provider’s default (0)',
  })
  index?: number | null;
}

/** A device as the registry writes it (`cuda:1`), as GraphQL shows it. */
export function toDeviceType(text: string): DeviceType {
  const d = parseDevice(text);
  return { kind: d.kind, index: d.index ?? null };
}

/** A Device or DeviceInput as text (`cuda:1`), unchecked: for logs and audit details. */
export const deviceLabel = (d: { kind: string; index?: number | null }): string =>
  d.index == null ? d.kind : `${d.kind}:${d.index}`;

/** A device as GraphQL shows it, or null. */
export const toDeviceTypeOrNull = (text: string | null | undefined): DeviceType | null =>
  text ? toDeviceType(text) : null;

/** A DeviceInput as the registry takes it (`cuda:1`); an index on CPU or WEBGPU, or out of 0..99, is BAD_USER_INPUT. */
export function deviceText(input: { kind: string; index?: number | null }, field = 'device'): string {
  const index = input.index ?? undefined;
  if (index !== undefined) {
    if (input.kind !== DeviceKind.CUDA && input.kind !== DeviceKind.TENSORRT)
      throw badInput(`${field}.index`, `a ${input.kind.toUpperCase()} device has no index`);
    if (!Number.isInteger(index) || index < 0 || index > 99)
      throw badInput(`${field}.index`, 'index must be between 0 and 99');
  }
  const text = formatDevice({ kind: input.kind as Device['kind'], index });
  if (!DEVICE_PATTERN.test(text)) throw badInput(`${field}.kind`, 'expected CPU, WEBGPU, CUDA or TENSORRT');
  return text;
}
