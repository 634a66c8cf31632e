import type { InferenceSession } from 'onnxruntime-node';
import { DEVICE_PATTERN } from '../package/manifest';
import { badInput } from '../../infra/errors';

/** A placement target: `cpu`, `webgpu`, `cuda[:N]`, `tensorrt[:N]`. */
export interface Device {
  kind: 'cpu' | 'webgpu' | 'cuda' | 'tensorrt';
  index?: number;
}

export function parseDevice(s: string): Device {
  const text = s.trim().toLowerCase();
  if (!DEVICE_PATTERN.test(text)) {
    throw badInput('device', `unknown device "${s}": expected cpu, webgpu, cuda[:N] or tensorrt[:N]`);
  }
  const [kind, index] = text.split(':');
  return index === undefined
    ? { kind: kind as Device['kind'] }
    : { kind: kind as Device['kind'], index: Number(index) };
}

export function formatDevice(d: Device): string {
  return d.index === undefined ? d.kind : `${d.kind}:${d.index}`;
}

/** One device's way down to cpu: tensorrt:N -> cuda:N -> cpu, cuda:N -> cpu, webgpu -> cpu. */
export function deviceChain(device: string): string[] {
  const d = parseDevice(device);
  const at = d.index === undefined ? '' : `:${d.index}`;
  switch (d.kind) {
    case 'tensorrt':
      return [`tensorrt${at}`, `cuda${at}`, 'cpu'];
    case 'cuda':
      return [`cuda${at}`, 'cpu'];
    case 'webgpu':
      return ['webgpu', 'cpu'];
    default:
      return ['cpu'];
  }
}

/** A preference list (e.g. a manifest's `devices`) expanded into the order to try, cpu last, no repeats. */
export function placementOrder(preferred: string | readonly string[]): string[] {
  const list = typeof preferred === 'string' ? [preferred] : preferred;
  const order: string[] = [];
  for (const dev of list) for (const d of deviceChain(dev)) if (d !== 'cpu' && !order.includes(d)) order.push(d);
  order.push('cpu');
  return order;
}

/** onnxruntime-node's execution provider option for one device. */
export function executionProvider(device: string): InferenceSession.ExecutionProviderConfig {
  const d = parseDevice(device);
  if (d.kind === 'cpu' || d.kind === 'webgpu') return d.kind;
  return { name: d.kind, deviceId: d.index ?? 0 } as InferenceSession.ExecutionProviderConfig;
}
