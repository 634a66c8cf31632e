import { MemoryJobQueue } from './memory-queue';
import { backoffDelay, PermanentJobError, type JobAttempt } from './queue';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('backoffDelay', () => {
  it('doubles from the base delay', () => {
    const p = { attempts: 4, baseDelayMs: 100 };
    expect([1, 2, 3].map((a) => backoffDelay(p, a))).toEqual([100, 200, 400]);
  });
});

describe('MemoryJobQueue', () => {
  it('never runs more than `concurrency` jobs at once and runs them all, in order', async () => {
    let running = 0;
    let peak = 0;
    const started: string[] = [];
    const q = new MemoryJobQueue(async ({ jobId }) => {
      started.push(jobId);
      running++;
      peak = Math.max(peak, running);
      await tick(5);
      running--;
    }, 3);
    for (let i = 0; i < 10; i++) await q.enqueue(`j${i}`);
    expect(await q.depth()).toBe(7);
    await q.close(5_000);
    expect(peak).toBe(3);
    expect(started).toEqual(['j0', 'j1', 'j2']); // close() dropped the waiting ones: they stay QUEUED in the database
  });

  it('retries a failing job with backoff, marks the last try final, then gives up', async () => {
    const attempts: JobAttempt[] = [];
    const errors: Array<[string, boolean]> = [];
    const q = new MemoryJobQueue(
      async (a) => {
        attempts.push(a);
        throw new Error('boom');
      },
      1,
      { attempts: 3, baseDelayMs: 10 },
      (id, _e, final) => errors.push([id, final]),
    );
    await q.enqueue('x');
    for (let i = 0; i < 100 && errors.length < 3; i++) await tick(10);
    expect(attempts.map((a) => [a.attempt, a.final])).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
    expect(errors).toEqual([
      ['x', false],
      ['x', false],
      ['x', true],
    ]);
    await q.close();
  });

  it('does not retry a PermanentJobError', async () => {
    let n = 0;
    const q = new MemoryJobQueue(
      async () => {
        n++;
        throw new PermanentJobError('model gone', 'MODEL_UNAVAILABLE');
      },
      1,
      { attempts: 5, baseDelayMs: 1 },
    );
    await q.enqueue('y');
    await tick(50);
    expect(n).toBe(1);
    await q.close();
  });

  it('remove() takes out a waiting job and a retry waiting for its backoff, not a running one', async () => {
    const started: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = new MemoryJobQueue(
      async ({ jobId, attempt }) => {
        started.push(`${jobId}#${attempt}`);
        if (jobId === 'flaky') throw new Error('boom');
        await gate;
      },
      1,
      { attempts: 3, baseDelayMs: 60_000 },
    );
    await q.enqueue('flaky'); // fails at once, then waits a minute for its retry
    await tick(0);
    await q.enqueue('running');
    await q.enqueue('waiting');
    expect(await q.depth()).toBe(2);
    expect(await q.remove('waiting')).toBe(true);
    expect(await q.remove('flaky')).toBe(true);
    expect(await q.remove('running')).toBe(false);
    expect(await q.remove('unknown')).toBe(false);
    expect(await q.depth()).toBe(0);
    release();
    await q.close(5_000);
    expect(started).toEqual(['flaky#1', 'running#1']);
  });

  it('close() waits for running jobs (graceful drain) and refuses new ones', async () => {
    let finished = false;
    const q = new MemoryJobQueue(async () => {
      await tick(50);
      finished = true;
    }, 1);
    await q.enqueue('z');
    await q.close(5_000);
    expect(finished).toBe(true);
    await expect(q.enqueue('late')).rejects.toThrow(/shutting down/);
  });
});
