import { createPubSub, type PubSub } from '../../infra/messaging/pubsub';
import Redis from 'ioredis';
import { JobStatus } from '../../entities/inference-job';
import {
  MemoryProgressLog,
  ProgressPublisher,
  RedisProgressLog,
  type NewProgressEvent,
  type ProgressLog,
} from './progress';

const ev = (jobId: string, stage: NewProgressEvent['stage'], progress = 0): NewProgressEvent => ({
  jobId,
  stage,
  status: JobStatus.RUNNING,
  progress,
  attempt: 1,
  imageCount: 1,
});

async function collect(it: AsyncIterable<{ seq: number; stage: string }>): Promise<Array<[number, string]>> {
  const out: Array<[number, string]> = [];
  for await (const e of it) out.push([e.seq, e.stage]);
  return out;
}

function suite(name: string, makeLog: () => ProgressLog) {
  describe(`ProgressPublisher.stream with ${name}`, () => {
    const pubSub = (): PubSub => createPubSub();

    it('replays what was published before the subscription, then live events, in order, ending at done', async () => {
      const p = new ProgressPublisher(makeLog(), pubSub());
      const id = `job-${Math.random()}`;
      await p.publish(ev(id, 'queued'));
      await p.publish(ev(id, 'preprocessing', 0.1));
      const got = collect(p.stream(id));
      await new Promise((r) => setTimeout(r, 20));
      await p.publish(ev(id, 'model', 0.6));
      await p.publish(ev(id, 'persisted', 1));
      await p.publish(ev(id, 'done', 1));
      await p.publish(ev(id, 'model')); // after done: not delivered
      expect(await got).toEqual([
        [1, 'queued'],
        [2, 'preprocessing'],
        [3, 'model'],
        [4, 'persisted'],
        [5, 'done'],
      ]);
    });

    it('gives a job that already finished its whole history and ends', async () => {
      const p = new ProgressPublisher(makeLog(), pubSub());
      const id = `job-${Math.random()}`;
      for (const s of ['queued', 'preprocessing', 'failed'] as const) await p.publish(ev(id, s));
      expect(await collect(p.stream(id))).toEqual([
        [1, 'queued'],
        [2, 'preprocessing'],
        [3, 'failed'],
      ]);
    });

    it('delivers events published while the log is being read exactly once', async () => {
      const p = new ProgressPublisher(makeLog(), pubSub());
      const id = `job-${Math.random()}`;
      await p.publish(ev(id, 'queued'));
      const got = collect(p.stream(id));
      const all = Array.from({ length: 50 }, (_, i) => p.publish(ev(id, 'model', i / 50)));
      await Promise.all(all);
      await p.publish(ev(id, 'done', 1));
      const seqs = (await got).map(([s]) => s);
      expect(seqs).toEqual(Array.from({ length: 52 }, (_, i) => i + 1));
    });
  });
}

suite('the in-memory log', () => new MemoryProgressLog());

describe('MemoryProgressLog bounds', () => {
  const at = '2026-12-03T00:00:00.000Z';
  const append = (log: MemoryProgressLog, jobId: string, stage: NewProgressEvent['stage']) =>
    log.append(jobId, { ...ev(jobId, stage), at });
  const size = (jobId: string, stage: NewProgressEvent['stage']) => JSON.stringify({ ...ev(jobId, stage), at }).length;
  const stages = async (log: MemoryProgressLog, jobId: string) => (await log.list(jobId)).map((e) => e.stage);

  it("drops the finished jobs' logs longest finished first past maxBytes, never a running job's", async () => {
    // Room for two finished logs of queued + done.
    const perJob = size('job-a', 'queued') + size('job-a', 'done');
    const log = new MemoryProgressLog(3_600_000, 2 * perJob);
    await append(log, 'job-r', 'queued'); // runs on while the others come and go
    for (const id of ['job-a', 'job-b', 'job-c']) {
      await append(log, id, 'queued');
      await append(log, id, 'done');
    }
    expect(await stages(log, 'job-a')).toEqual([]); // finished first, dropped for job-c
    expect(await stages(log, 'job-b')).toEqual(['queued', 'done']);
    expect(await stages(log, 'job-c')).toEqual(['queued', 'done']);
    expect(await append(log, 'job-r', 'model')).toBe(2); // its numbering goes on
    expect(await stages(log, 'job-r')).toEqual(['queued', 'model']);
  });

  it('forgets every log after ttlMs, and a cleared one at once', async () => {
    let now = 0;
    const log = new MemoryProgressLog(1000, 1 << 20, () => now);
    await append(log, 'job-old', 'queued');
    await append(log, 'job-old-done', 'queued');
    await append(log, 'job-old-done', 'done');
    now = 500;
    await append(log, 'job-new', 'queued');
    await append(log, 'job-gone', 'queued');
    await log.clear('job-gone');
    expect(await stages(log, 'job-gone')).toEqual([]);
    now = 1000;
    expect(await stages(log, 'job-old')).toEqual([]);
    expect(await stages(log, 'job-old-done')).toEqual([]);
    expect(await stages(log, 'job-new')).toEqual(['queued']);
    expect(await append(log, 'job-old', 'model')).toBe(1); // a new log
  });

  it('keeps a finished job that publishes again (retried without a clear) with its numbering', async () => {
    const log = new MemoryProgressLog();
    await append(log, 'job-x', 'queued');
    await append(log, 'job-x', 'failed');
    expect(await append(log, 'job-x', 'queued')).toBe(3);
    expect(await stages(log, 'job-x')).toEqual(['queued', 'failed', 'queued']);
  });
});

describe('ProgressPublisher.stream closed by its consumer', () => {
  /** An in-memory transport that counts the listeners of each channel. */
  function countingPubSub() {
    const channels = new Map<string, Set<(payload: unknown) => void>>();
    const transport = {
      on: (c: string, l: (payload: unknown) => void) => void channels.set(c, (channels.get(c) ?? new Set()).add(l)),
      off: (c: string, l: (payload: unknown) => void) => void channels.get(c)?.delete(l),
      emit: (c: string, payload: unknown) => channels.get(c)?.forEach((l) => l(payload)),
    };
    const listeners = (jobId: string) => channels.get(`INFERENCE_PROGRESS:${jobId}`)?.size ?? 0;
    return { pubSub: createPubSub({ transport }), listeners };
  }

  it('return() while next() waits for an event that never comes: next() ends and the listener is removed at once', async () => {
    const { pubSub, listeners } = countingPubSub();
    const p = new ProgressPublisher(new MemoryProgressLog(), pubSub);
    const id = `job-${Math.random()}`;
    await p.publish(ev(id, 'queued'));
    const stream = p.stream(id);
    expect(listeners(id)).toBe(1);
    expect((await stream.next()).value).toMatchObject({ seq: 1, stage: 'queued' });
    const pending = stream.next(); // nothing more will be published
    expect(await stream.return!()).toEqual({ value: undefined, done: true });
    expect(listeners(id)).toBe(0);
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(await stream.next()).toEqual({ value: undefined, done: true });
    await p.publish(ev(id, 'done', 1)); // heard by no one
    expect(listeners(id)).toBe(0);
  });

  it('return() before the first next() removes the listener', async () => {
    const { pubSub, listeners } = countingPubSub();
    const p = new ProgressPublisher(new MemoryProgressLog(), pubSub);
    const stream = p.stream('never');
    expect(listeners('never')).toBe(1);
    await stream.return!();
    expect(listeners('never')).toBe(0);
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it('a stream that reaches done removes its listener', async () => {
    const { pubSub, listeners } = countingPubSub();
    const p = new ProgressPublisher(new MemoryProgressLog(), pubSub);
    const id = `job-${Math.random()}`;
    const got = collect(p.stream(id));
    await p.publish(ev(id, 'queued'));
    await p.publish(ev(id, 'done', 1));
    expect(await got).toEqual([
      [1, 'queued'],
      [2, 'done'],
    ]);
    expect(listeners(id)).toBe(0);
  });
});

const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true });
afterAll(() => redis.quit());
suite('the Redis log', () => new RedisProgressLog(redis, `dg-test-progress-${process.pid}-${Date.now()}:`, 60));
