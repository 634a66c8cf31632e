import { SmallFileCalls } from './small-file-calls';

/** A clock the test moves, and calls that say where they ran. */
function setup() {
  const clock = { t: 1000 };
  const calls = new SmallFileCalls({ slowMs: 2, poolMs: 60_000, now: () => clock.t });
  const ran: string[] = [];
  const call = (took = 0) =>
    calls.run(
      () => {
        ran.push('loop');
        clock.t += took;
        return 'done';
      },
      async () => {
        ran.push('pool');
        return 'done';
      },
    );
  return { clock, calls, ran, call };
}

describe('SmallFileCalls', () => {
  test('fast calls run on the event loop and answer as promises, errors as rejections', async () => {
    const { calls, ran, call } = setup();
    await expect(call(1)).resolves.toBe('done');
    await expect(call(2)).resolves.toBe('done'); // at the limit, not over it
    const enoent = Object.assign(new Error('gone'), { code: 'ENOENT' });
    await expect(
      calls.run(
        () => {
          throw enoent;
        },
        async () => 'pool',
      ),
    ).rejects.toBe(enoent);
    expect(ran).toEqual(['loop', 'loop']);
    expect(calls.pooled).toBe(false);
  });

  test('after a slow call, calls go through the pool for poolMs, then the loop is tried again', async () => {
    const { clock, calls, ran, call } = setup();
    await expect(call(5)).resolves.toBe('done'); // the slow call itself still answers
    expect(calls.pooled).toBe(true);
    await call();
    clock.t += 59_000;
    await call();
    clock.t += 1_001;
    await call();
    expect(ran).toEqual(['loop', 'pool', 'pool', 'loop']);
    expect(calls.pooled).toBe(false);
  });

  test('a slow call that throws sends the next calls to the pool too', async () => {
    const { clock, calls, ran, call } = setup();
    await expect(
      calls.run(
        () => {
          clock.t += 10;
          throw new Error('EIO');
        },
        async () => 'pool',
      ),
    ).rejects.toThrow('EIO');
    await call();
    expect(ran).toEqual(['pool']);
  });
});
