/**
 */
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { FIXTURE_DIR, IMAGES, referenceProbabilities, tensorOf } from '../../../test/fixtures/models/packages';
import { softmax } from '../../inference/softmax';
import { bundledBackends, createSession } from './sessions';
import type { ModelSession } from './threaded-session';

const MODEL = join(FIXTURE_DIR, 'tiny-classifier-v1.onnx');

async function classify(session: ModelSession, image: string): Promise<number[]> {
  const t = await tensorOf(image);
  const out = await session.run({ input: new ort.Tensor('float32', t, [1, 3, 32, 32]) });
  return softmax(out.logits.data as Float32Array);
}

describe('createSession', () => {
  it('knows which providers this onnxruntime binary bundles', () => {
    expect(bundledBackends()).toEqual(expect.arrayContaining(['cpu']));
  });

  it('places on cpu without a fallback and answers as the reference maths does', async () => {
    const { session, placement } = await createSession(MODEL, 'cpu', { intraOp: 1, interOp: 1 });
    try {
      expect(placement).toEqual({ requested: 'cpu', actual: 'cpu', fallbackReason: null, attempts: [] });
      const got = await classify(session, IMAGES[0]);
      const want = referenceProbabilities(await tensorOf(IMAGES[0]), 'v1');
      got.forEach((p, i) => expect(p).toBeCloseTo(want[i], 5));
    } finally {
      await session.release();
    }
  });

  // Without a GPU (as on CI) each accelerator fails at InferenceSession.create and the session
  // falls back to cpu with the provider's own reason; on a GPU machine it may really place there.
  it.each([
    ['cuda', ['cuda', 'cpu']],
    ['cuda:1', ['cuda:1', 'cpu']],
    ['tensorrt', ['tensorrt', 'cuda', 'cpu']],
    ['webgpu', ['webgpu', 'cpu']],
  ])('%s falls down its chain, says why, and still answers correctly', async (device, chain) => {
    const { session, placement } = await createSession(MODEL, device, { intraOp: 2, interOp: 1 });
    try {
      expect(placement.requested).toBe(device);
      expect(chain).toContain(placement.actual);
      const tried = chain.slice(0, chain.indexOf(placement.actual));
      expect(placement.attempts.map((a) => a.device)).toEqual(tried);
      if (placement.actual === device) expect(placement.fallbackReason).toBeNull();
      else {
        for (const d of tried) expect(placement.fallbackReason).toContain(`${d}: `);
        expect(placement.fallbackReason!.length).toBeLessThan(700);
        expect(placement.fallbackReason).not.toMatch(/onnxruntime_src/);
      }
      const got = await classify(session, IMAGES[1]);
      const want = referenceProbabilities(await tensorOf(IMAGES[1]), 'v1');
      got.forEach((p, i) => expect(p).toBeCloseTo(want[i], 4));
    } finally {
      await session.release();
    }
  });

  it('refuses with onnx.load when the warm-up probe fails on every device, or cpu cannot load the file', async () => {
    const probe = async () => {
      throw new Error('Failed the warm-up on purpose');
    };
    const err = await createSession(MODEL, 'webgpu', undefined, { probe }).catch((e) => e);
    expect(err).toMatchObject({ code: 'BAD_USER_INPUT', check: 'onnx.load', field: 'modelFile' });
    expect(err.message).toBe('onnx.load: Failed the warm-up on purpose');
    await expect(createSession(join(FIXTURE_DIR, 'weights.json'), 'cpu')).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      check: 'onnx.load',
      field: 'modelFile',
    });
  });
});
