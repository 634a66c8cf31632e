import { activate, sigmoid, softmax } from './activations';
import { deviceChain, executionProvider, parseDevice, placementOrder } from './devices';
import { shortError } from './errors';
import { compareSemver } from './semver';
import { LatencyReservoir, percentile, StatsCounter } from './stats';

describe('activations', () => {
  it('softmax knows its answers and is stable for large logits', () => {
    expect(softmax([0, 0])).toEqual([0.5, 0.5]);
    const p = softmax([Math.log(1), Math.log(3)]);
    expect(p[0]).toBeCloseTo(0.25, 12);
    expect(p[1]).toBeCloseTo(0.75, 12);
    expect(softmax([1000, 1000 + Math.log(3)])[1]).toBeCloseTo(0.75, 12);
  });

  it('sigmoid is symmetric and does not overflow', () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(Math.log(3))).toBeCloseTo(0.75, 12);
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(1000)).toBe(1);
  });

  it('activate applies the manifest activation', () => {
    expect(activate([0, 0], 'softmax')).toEqual([0.5, 0.5]);
    expect(activate([0, 0], 'sigmoid')).toEqual([0.5, 0.5]);
    expect(activate(Float32Array.of(2, 3), 'none')).toEqual([2, 3]);
  });
});

describe('devices', () => {
  it('parses the device strings and nothing else', () => {
    expect(parseDevice('cuda:1')).toEqual({ kind: 'cuda', index: 1 });
    expect(parseDevice('CPU')).toEqual({ kind: 'cpu' });
    expect(() => parseDevice('gpu')).toThrow(/unknown device "gpu"/);
  });

  it('falls down each chain to cpu', () => {
    expect(deviceChain('tensorrt:1')).toEqual(['tensorrt:1', 'cuda:1', 'cpu']);
    expect(deviceChain('cuda:2')).toEqual(['cuda:2', 'cpu']);
    expect(deviceChain('webgpu')).toEqual(['webgpu', 'cpu']);
    expect(deviceChain('cpu')).toEqual(['cpu']);
  });

  it('expands a preference list with cpu last and no repeats', () => {
    expect(placementOrder(['tensorrt', 'webgpu', 'cpu'])).toEqual(['tensorrt', 'cuda', 'webgpu', 'cpu']);
    expect(placementOrder(['cpu', 'cuda'])).toEqual(['cuda', 'cpu']);
  });

  it('maps devices to onnxruntime execution providers', () => {
    expect(executionProvider('cpu')).toBe('cpu');
    expect(executionProvider('webgpu')).toBe('webgpu');
    expect(executionProvider('cuda:1')).toEqual({ name: 'cuda', deviceId: 1 });
    expect(executionProvider('tensorrt')).toEqual({ name: 'tensorrt', deviceId: 0 });
  });
});

describe('shortError', () => {
  it('keeps the reason of an onnxruntime error, not its source location', () => {
    const raw =
      '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize() adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n';
    expect(shortError(new Error(raw))).toBe('Failed to get a WebGPU adapter: No supported adapters');
    expect(shortError('x'.repeat(300), 10)).toHaveLength(10);
  });
});

describe('compareSemver', () => {
  it('orders versions as semver.org says', () => {
    const sorted = ['1.0.0', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-beta', '1.0.0-alpha.beta', '1.0.0-rc.1', '1.0.0-beta.11', '1.0.0-beta.2', '0.9.10', '0.9.9', '10.0.0', '2.0.0'].sort(compareSemver);
    expect(sorted).toEqual(['0.9.9', '0.9.10', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '2.0.0', '10.0.0']);
    expect(compareSemver('1.2.3+build', '1.2.3')).toBe(0);
  });
});

describe('stats', () => {
  it('percentile is nearest-rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 95)).toBe(95);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });

  it('the reservoir keeps a bounded sample that still describes the stream', () => {
    let seed = 1;
    const rng = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const r = new LatencyReservoir(200, rng);
    for (let i = 1; i <= 10000; i++) r.add(i % 100); // uniform 0..99
    const q = r.quantiles();
    expect(q.p50!).toBeGreaterThanOrEqual(40);
    expect(q.p50!).toBeLessThanOrEqual(60);
    expect(q.p95!).toBeGreaterThanOrEqual(88);
  });

  it('counts requests and errors by image', () => {
    const s = new StatsCounter();
    s.record(10, true, 4);
    s.record(30, true);
    s.record(99, false, 2);
    expect(s.snapshot()).toEqual({ requests: 7, errors: 2, p50Ms: 10, p95Ms: 30 });
  });
});
