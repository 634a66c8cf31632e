import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { decodeF32, FIXTURE_DIR, maxRelativeError, readJson } from './__fixtures__/load';
import type { FeatureMap } from './cam-map';
import { gradCam, loadGradCamHead, resolveTargetClass } from './gradcam';
import { headGradient, type ClassifierHead } from './onnx-head';
import { AppError } from '../infra/errors';

interface Reference {
  model: string;
  inputShape: number[];
  input: string;
  featureShape: [number, number, number];
  features: string;
  logits: number[];
  gradCam: { targetClass: number; gradients: string; alpha: number[]; cam: number[] }[];
}

const modelBytes = (file: string) => fs.readFileSync(path.join(FIXTURE_DIR, file));

function headOf(ref: Reference): ClassifierHead {
  const plan = loadGradCamHead(modelBytes(ref.model), 'features', 'logits');
  if (!plan.differentiable) throw new Error(plan.reason);
  return plan.head;
}

const featureMap = (data: Float32Array, [channels, height, width]: number[]): FeatureMap => ({
  data,
  channels,
  height,
  width,
});

describe.each(['gap-linear', 'gap-mlp', 'gap-mix'])('Grad-CAM on %s vs PyTorch autograd', (name) => {
  const ref = readJson<Reference>(`${name}.json`);
  const head = headOf(ref);
  const fm = featureMap(decodeF32(ref.features), ref.featureShape);

  it('recomputes the logits', () => {
    const r = gradCam(head, fm);
    expect(maxRelativeError(r.logits, ref.logits)).toBeLessThan(1e-5);
  });

  it.each([0, 1])('matches gradients, alpha and cam (reference %i)', (i) => {
    const want = ref.gradCam[i];
    const { gradFeatures, target } = headGradient(
      head,
      { dims: [1, ...ref.featureShape], data: Float64Array.from(fm.data) },
      () => want.targetClass,
    );
    expect(target).toBe(want.targetClass);
    expect(maxRelativeError(gradFeatures, decodeF32(want.gradients))).toBeLessThan(1e-5);
    const r = gradCam(head, fm, { targetClass: i === 0 ? undefined : want.targetClass });
    expect(r.method).toBe('grad-cam');
    expect(r.targetClass).toBe(want.targetClass);
    expect(maxRelativeError(r.weights, want.alpha)).toBeLessThan(1e-5);
    expect(maxRelativeError(r.cam, want.cam)).toBeLessThan(1e-5);
  });

  it('gives the same answer from features computed by onnxruntime-node', async () => {
    const session = await ort.InferenceSession.create(path.join(FIXTURE_DIR, ref.model));
    const out = await session.run({ input: new ort.Tensor('float32', decodeF32(ref.input), ref.inputShape) });
    const r = gradCam(head, featureMap(out.features.data as Float32Array, ref.featureShape));
    expect(maxRelativeError(r.logits, out.logits.data as Float32Array)).toBeLessThan(1e-5);
    expect(maxRelativeError(r.cam, ref.gradCam[0].cam)).toBeLessThan(1e-4);
    await session.release();
  });
});

describe('Grad-CAM on a GAP + Linear head is W[c, k] / (H*W)', () => {
  it('has alpha equal to the weight row over H*W, by hand', () => {
    const ref = readJson<Reference>('gap-linear.json');
    const plan = loadGradCamHead(modelBytes(ref.model), 'features', 'logits');
    if (!plan.differentiable) throw new Error(plan.reason);
    const W = plan.head.constants.get('head.fc.weight')!; // [3, 4]
    const fm = featureMap(decodeF32(ref.features), ref.featureShape);
    for (const c of [0, 1, 2]) {
      const r = gradCam(plan.head, fm, { targetClass: c });
      for (let k = 0; k < 4; k++) expect(r.weights[k]).toBeCloseTo(W.data[c * 4 + k] / 16, 12);
    }
  });
});

describe('head gradient vs finite differences (gap-mix: every supported op)', () => {
  it('agrees with central differences of the head itself', () => {
    const ref = readJson<Reference>('gap-mix.json');
    const head = headOf(ref);
    const base = Float64Array.from(decodeF32(ref.features));
    const dims = [1, ...ref.featureShape];
    const logit = (data: Float64Array, c: number) => headGradient(head, { dims, data }, () => c).logits[c];
    for (const c of [0, 2]) {
      const { gradFeatures } = headGradient(head, { dims, data: base }, () => c);
      const h = 1e-6;
      for (const i of [0, 5, 17, 33, 63]) {
        const plus = Float64Array.from(base);
        const minus = Float64Array.from(base);
        plus[i] += h;
        minus[i] -= h;
        expect(gradFeatures[i]).toBeCloseTo((logit(plus, c) - logit(minus, c)) / (2 * h), 7);
      }
    }
  });
});

describe('heads that cannot be differentiated', () => {
  it('reports a max-pool head so the caller uses Score-CAM', () => {
    const plan = loadGradCamHead(modelBytes('gmp-linear.onnx'), 'features', 'logits');
    expect(plan.differentiable).toBe(false);
    if (!plan.differentiable) expect(plan.reason).toMatch(/MaxPool/);
  });
  it('reports unknown output names', () => {
    const plan = loadGradCamHead(modelBytes('gap-linear.onnx'), 'nope', 'logits');
    expect(plan).toEqual({ differentiable: false, reason: '"nope" is not an output of the graph' });
  });
  it('reports logits that depend on the input other than through the features', () => {
    // names swapped: the "logits" asked for (the feature map) come from the model input directly
    const plan = loadGradCamHead(modelBytes('gap-linear.onnx'), 'logits', 'features');
    expect(plan.differentiable).toBe(false);
    if (!plan.differentiable) expect(plan.reason).toMatch(/graph input "input"/);
  });
});

describe('resolveTargetClass', () => {
  it('defaults to argmax and refuses out-of-range classes', () => {
    expect(resolveTargetClass(undefined, [0.1, 3, 2])).toBe(1);
    expect(resolveTargetClass(2, [0.1, 3, 2])).toBe(2);
    for (const bad of [-1, 3, 1.5, Number.NaN]) {
      expect(() => resolveTargetClass(bad, [0.1, 3, 2])).toThrow(AppError);
    }
  });
});
