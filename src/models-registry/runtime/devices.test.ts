import { deviceChain, executionProvider, parseDevice, placementOrder } from './devices';

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
