import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { FIXTURE_DIR, IMAGES, tensorOf } from '../../../test/fixtures/models/packages';
import { handOver, ThreadedSession } from './threaded-session';

const MODEL = join(FIXTURE_DIR, 'tiny-classifier-v1.onnx');
const OPTIONS = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' } as const;

describe('ThreadedSession', () => {
  let threaded: ThreadedSession;
  let local: ort.InferenceSession;
  beforeAll(async () => {
    threaded = await ThreadedSession.create(MODEL, OPTIONS);
    local = await ort.InferenceSession.create(MODEL, OPTIONS);
  });
  afterAll(async () => {
    await threaded.release();
    await local.release();
  });

  it("reports the model's inputs and outputs as the session does", () => {
    expect(threaded.inputNames).toEqual(local.inputNames);
    expect(threaded.outputNames).toEqual(local.outputNames);
    expect(threaded.inputMetadata).toEqual(local.inputMetadata);
    expect(threaded.outputMetadata).toEqual(local.outputMetadata);
  });

  it('answers exactly as a session on this thread, for concurrent runs of different images', async () => {
    const tensors = await Promise.all(IMAGES.map((i) => tensorOf(i)));
    const feeds = (t: Float32Array) => ({ input: new ort.Tensor('float32', t, [1, 3, 32, 32]) });
    const want = await Promise.all(
      tensors.map(async (t) => Array.from((await local.run(feeds(t))).logits.data as Float32Array)),
    );
    const got = await Promise.all(tensors.map(async (t) => (await threaded.run(feeds(t))).logits));
    got.forEach((out, i) => {
      expect(out).toBeInstanceOf(ort.Tensor);
      expect(out.dims).toEqual([1, 2]);
      expect(Array.from(out.data as Float32Array)).toEqual(want[i]);
    });
    // The caller's input is copied, not taken: it is still usable afterwards.
    expect(tensors[0].length).toBe(3 * 32 * 32);
  });

  it("rejects a bad run with onnxruntime's reason and keeps answering", async () => {
    await expect(threaded.run({ nope: new ort.Tensor('float32', new Float32Array(4), [1, 4]) })).rejects.toThrow(
      /input/i,
    );
    const t = await tensorOf(IMAGES[0]);
    const out = await threaded.run({ input: new ort.Tensor('float32', t, [1, 3, 32, 32]) }, ['logits']);
    expect(Object.keys(out)).toEqual(['logits']);
  });
});

it('a file that is not ONNX fails at create, and a released session refuses to run', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dg-threaded-'));
  try {
    await writeFile(join(dir, 'bad.onnx'), 'not a model');
    await expect(ThreadedSession.create(join(dir, 'bad.onnx'), OPTIONS)).rejects.toThrow();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const s = await ThreadedSession.create(MODEL, OPTIONS);
  await s.release();
  await s.release(); // idempotent
  await expect(
    s.run({ input: new ort.Tensor('float32', new Float32Array(3 * 32 * 32), [1, 3, 32, 32]) }),
  ).rejects.toThrow(/released/);
});

it('moves a handed-over input to the thread instead of copying it, and answers the same', async () => {
  const s = await ThreadedSession.create(MODEL, OPTIONS);
  try {
    const t = await tensorOf(IMAGES[1]);
    const copied = await s.run({ input: new ort.Tensor('float32', t, [1, 3, 32, 32]) });
    expect(t.length).toBe(3 * 32 * 32); // copied: still the caller's
    const given = handOver(t.slice());
    const moved = await s.run({ input: new ort.Tensor('float32', given, [1, 3, 32, 32]) });
    expect(given.length).toBe(0); // detached: it went to the thread
    expect(Array.from(moved.logits.data as Float32Array)).toEqual(Array.from(copied.logits.data as Float32Array));

    // Given back: the same bytes return to the owner after the run, in a buffer of the same size.
    const returned: ArrayBuffer[] = [];
    const pooled = handOver(t.slice(), (b) => returned.push(b));
    const again = await s.run({ input: new ort.Tensor('float32', pooled, [1, 3, 32, 32]) });
    expect(pooled.length).toBe(0);
    expect(returned).toHaveLength(1);
    expect(Array.from(new Float32Array(returned[0]))).toEqual(Array.from(t));
    expect(Array.from(again.logits.data as Float32Array)).toEqual(Array.from(copied.logits.data as Float32Array));
  } finally {
    await s.release();
  }
});

it('a thread that dies fails the runs waiting on it; the next run starts a new thread with the same session', async () => {
  const s = await ThreadedSession.create(MODEL, OPTIONS);
  try {
    const t = await tensorOf(IMAGES[0]);
    const feeds = () => ({ input: new ort.Tensor('float32', t, [1, 3, 32, 32]) });
    const before = Array.from((await s.run(feeds())).logits.data as Float32Array);
    // As if the thread ran out of memory: it goes away with a run in flight.
    const inFlight = s.run(feeds());
    await (s as unknown as { thread: { worker: { terminate(): Promise<number> } } }).thread.worker.terminate();
    await expect(inFlight).rejects.toThrow(/inference thread/);
    const [a, b] = await Promise.all([s.run(feeds()), s.run(feeds())]);
    expect(Array.from(a.logits.data as Float32Array)).toEqual(before);
    expect(Array.from(b.logits.data as Float32Array)).toEqual(before);
    expect(s.restarts).toBe(1);
    expect(s.inputNames).toEqual(['input']);
  } finally {
    await s.release();
  }
  await expect(
    s.run({ input: new ort.Tensor('float32', new Float32Array(3 * 32 * 32), [1, 3, 32, 32]) }),
  ).rejects.toThrow(/released/);
});
