// Devices as the API names them (Device / DeviceInput) and as people read them: cpu, webgpu, cuda:1, tensorrt:0.
import type { DeviceKind } from '../../../gql/graphql';

export const DEVICE_KINDS: DeviceKind[] = ['CPU', 'WEBGPU', 'CUDA', 'TENSORRT'];

/** GPU index only for CUDA and TENSORRT (the API refuses one on CPU and WEBGPU). */
export const takesIndex = (kind: DeviceKind): boolean => kind === 'CUDA' || kind === 'TENSORRT';

export function deviceName(d: { kind: DeviceKind; index?: number | null } | null | undefined): string {
  if (!d) return '—';
  const kind = d.kind.toLowerCase();
  return d.index == null ? kind : `${kind}:${d.index}`;
}
