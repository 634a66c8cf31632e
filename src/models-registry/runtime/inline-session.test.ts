import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { FIXTURE_DIR, IMAGES, tensorOf } from '../../../test/fixtures/models/packages';
import { QuickOnLoop } from '../../infra/quick-on-loop';
import { InlineWhenQuick } from './inline-session';
import { createSession } from './sessions';
import { ThreadedSession, type ModelSession } from './threaded-session';

const MODEL = join(FIXTURE_DIR, 'tiny-classifier-v1.onnx');
const OPTIONS = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' } as const;

/** The threaded session, counting the runs that reach it. */
function counted(threaded: ModelSession): ModelSession & { runs: number } {
  const c = Object.create(threaded) as ModelSession & { runs: number };
  c.runs = 0;
  c.run = (feeds, fetches) => (c.runs++, threaded.run(feeds, fetches));
  c.release = () => threaded.release();
  return c;
}

describe('InlineWhenQuick', () => {
  const clock = { t: 0 };
  let threaded: ModelSession & { runs: number };
  let session: InlineWhenQuick;
  let tensors: Float32Array[];
  const one = (t: Float32Array) => ({ input: new ort.Tensor('float32', t, [1, 3, 32, 32]) });
  beforeAll(async () => {
    threaded = counted(await ThreadedSession.create(MODEL, OPTIONS));
    session = await InlineWhenQuick.create(
      threaded,
      MODEL,
      OPTIONS,
      new QuickOnLoop({ slowMs: 3, elsewhereMs: 60_000, now: () => clock.t }),
    );
    tensors = await Promise.all(IMAGES.map((i) => tensorOf(i)));
  });
  afterAll(() => session.release());

  it('runs one image on the loop, with the same answer as on the thread', async () => {
    for (const t of tensors) {
      const before = threaded.runs;
      const here = await session.run(one(t));
      expect(threaded.runs).toBe(before);
      const there = await threaded.run(one(t));
      expect(Array.from(here.logits.data as Float32Array)).toEqual(Array.from(there.logits.data as Float32Array));
    }
    expect(session.inputNames).toEqual(threaded.inputNames);
    expect(session.outputMetadata).toEqual(threaded.outputMetadata);
  });

  it('sends a batch to the thread', async () => {
    const before = threaded.runs;
    const batch = new Float32Array(2 * 3 * 32 * 32);
    batch.set(tensors[0]);
    batch.set(tensors[1], 3 * 32 * 32);
    const out = await session.run({ input: new ort.Tensor('float32', batch, [2, 3, 32, 32]) }, ['logits']);
    expect(out.logits.dims).toEqual([2, 2]);
    expect(threaded.runs).toBe(before + 1);
  });

  it('after a run slower than its limit (once past its first runs), sends single images to the thread for a minute', async () => {
    // A session whose every run counts as slow: its warm-up runs on the loop, then one more, then the thread.
    const quick = new QuickOnLoop({ slowMs: -1, elsewhereMs: 60_000, now: () => clock.t });
    const strict = await InlineWhenQuick.create(threaded, MODEL, OPTIONS, quick);
    const before = threaded.runs;
    for (let i = 0; i < 4; i++) await strict.run(one(tensors[0]));
    expect(threaded.runs).toBe(before);
    await strict.run(one(tensors[1]));
    expect(threaded.runs).toBe(before + 1);
    clock.t += 60_001;
    await strict.run(one(tensors[1]));
    expect(threaded.runs).toBe(before + 1);
  });

  it("rejects a bad run with onnxruntime's reason", async () => {
    await expect(session.run({ nope: new ort.Tensor('float32', new Float32Array(4), [1, 4]) })).rejects.toThrow(
      /input/i,
    );
  });
});

it('createSession puts a small model on the cpu in both places, and release ends both', async () => {
  const { session, placement } = await createSession(MODEL, 'cpu');
  expect(placement.actual).toBe('cpu');
  expect(session).toBeInstanceOf(InlineWhenQuick);
  await session.release();
  const t = await tensorOf(IMAGES[0]);
  await expect(session.run({ input: new ort.Tensor('float32', t, [1, 3, 32, 32]) })).rejects.toThrow(/released/);
  await expect(session.run({ input: new ort.Tensor('float32', t, [2, 3, 16, 32]) })).rejects.toThrow(/released/);
});
