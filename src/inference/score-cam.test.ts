import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { decodeF32, FIXTURE_DIR, maxRelativeError, readJson } from './__fixtures__/load';
import { applyMask, channelMask, type RunLogits, scoreCam } from './score-cam';

interface Reference {
  inputShape: number[];
  input: string;
  featureShape: [number, number, number];
  features: string;
  logits: number[];
  scoreCam: { targetClass: number; weights: number[]; cam: number[] };
}

describe('scoreCam on gmp-linear (a max-pool head Grad-CAM cannot differentiate)', () => {
  const ref = readJson<Reference>('gmp-linear.json');
  const [channels, height, width] = ref.featureShape;
  const fm = { data: decodeF32(ref.features), channels, height, width };
  const input = decodeF32(ref.input);
  let session: ort.InferenceSession;
  let calls: number[] = [];
  const runLogits: RunLogits = async (batch, n) => {
    calls.push(n);
    const out = await session.run({ input: new ort.Tensor('float32', batch, [n, 3, 16, 16]) });
    return out.logits.data as Float32Array;
  };

  beforeAll(async () => {
    session = await ort.InferenceSession.create(path.join(FIXTURE_DIR, 'gmp-linear.onnx'));
  });
  afterAll(() => session.release());
  beforeEach(() => {
    calls = [];
  });

  it('matches the PyTorch reference (make_heads.py score_cam) with the model run by onnxruntime-node', async () => {
    const r = await scoreCam(fm, { input, layout: 'NCHW', width: 16, height: 16, runLogits });
    expect(r.method).toBe('score-cam');
    expect(r.targetClass).toBe(ref.scoreCam.targetClass);
    expect(maxRelativeError(r.logits, ref.logits)).toBeLessThan(1e-5);
    expect(maxRelativeError(r.weights, ref.scoreCam.weights)).toBeLessThan(1e-5);
    expect(maxRelativeError(r.cam, ref.scoreCam.cam)).toBeLessThan(1e-5);
    expect(calls).toEqual([1, channels]); // unmasked input, then one batch of all channels
  });

  it('gives the same answer in batches of 1 and reuses given logits', async () => {
    const whole = await scoreCam(fm, { input, layout: 'NCHW', width: 16, height: 16, runLogits, targetClass: 2 });
    calls = [];
    const single = await scoreCam(fm, {
      input,
      layout: 'NCHW',
      width: 16,
      height: 16,
      runLogits,
      targetClass: 2,
      batchSize: 1,
      logits: ref.logits,
    });
    expect(calls).toEqual(new Array(channels).fill(1));
    expect(single.targetClass).toBe(2);
    expect(maxRelativeError(single.weights, whole.weights)).toBeLessThan(1e-6);
  });
});

describe('Score-CAM pieces', () => {
  it('scales each upsampled channel to [0, 1] and zeroes flat ones', () => {
    const fm = { data: [0, 2, 4, 6, 5, 5, 5, 5], channels: 2, height: 2, width: 2 };
    const m0 = channelMask(fm, 0, 2, 2);
    expect(Array.from(m0)).toEqual([0, 1 / 3, 2 / 3, 1].map(Math.fround));
    expect(Array.from(channelMask(fm, 1, 4, 4))).toEqual(new Array(16).fill(0));
  });
  it('masks every colour channel in either layout', () => {
    const mask = Float32Array.from([0, 0.5]);
    const nchw = new Float32Array(6);
    applyMask(Float32Array.from([1, 2, 3, 4, 5, 6]), mask, 'NCHW', nchw, 0);
    expect(Array.from(nchw)).toEqual([0, 1, 0, 2, 0, 3]);
    const nhwc = new Float32Array(7);
    applyMask(Float32Array.from([1, 2, 3, 4, 5, 6]), mask, 'NHWC', nhwc, 1);
    expect(Array.from(nhwc)).toEqual([0, 0, 0, 0, 2, 2.5, 3]);
  });
  it('uses one shared run for all flat channels', async () => {
    const fm = { data: [1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0], channels: 3, height: 2, width: 2 };
    const seen: number[] = [];
    const runLogits: RunLogits = async (batch, n) => {
      seen.push(n);
      // logits [sum of the batch item, 0]: the softmax weight depends on what was masked
      return Array.from({ length: n }, (_, i) => [
        batch.subarray(i * 4, i * 4 + 4).reduce((a, b) => a + b, 0),
        0,
      ]).flat();
    };
    const r = await scoreCam(fm, {
      input: Float32Array.from([1, 1, 1, 1]),
      layout: 'NCHW',
      width: 2,
      height: 2,
      runLogits,
      targetClass: 0,
      logits: [1, 0],
    });
    expect(seen).toEqual([2]); // channel 2 (varying) + one run for channels 0 and 1
    const zero = 1 / (1 + Math.exp(0)); // flat channels: masked input all zero -> logits [0, 0]
    const one = 1 / (1 + Math.exp(-1)); // channel 2 keeps one pixel -> logits [1, 0]
    expect(Array.from(r.weights)).toEqual([zero, zero, one]);
  });
});
