import { shortError } from './errors';

describe('shortError', () => {
  it('keeps the reason of an onnxruntime error, not its source location', () => {
    const raw =
      '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize() adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n';
    expect(shortError(new Error(raw))).toBe('Failed to get a WebGPU adapter: No supported adapters');
    expect(shortError('x'.repeat(300), 10)).toHaveLength(10);
  });
});
