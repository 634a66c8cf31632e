import { QuickOnLoop } from './quick-on-loop';

/** A clock the test moves, and calls that say where they ran. */
function setup() {
  const clock = { t: 1000 };
  const calls = new QuickOnLoop({ slowMs: 2, elsewhereMs: 60_000, now: () => clock.t });
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

describe('QuickOnLoop', () => {
  test('a call answering a promise is timed until it settles', async () => {
    const { clock, calls, ran } = setup();
    let settle!: (v: string) => void;
    const pending = calls.run(
      () => new Promise<string>((r) => (settle = r)),
      async () => 'elsewhere',
    );
    expect(calls.elsewhere).toBe(false);
    clock.t += 5;
    settle('late');
    await expect(pending).resolves.toBe('late');
    expect(calls.elsewhere).toBe(true);
    await expect(
      calls.run(
        () => 'loop',
        async () => (ran.push('pool'), 'elsewhere'),
      ),
    ).resolves.toBe('elsewhere');
  });

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
    expect(calls.elsewhere).toBe(false);
  });

  test('after a slow call, calls go elsewhere for elsewhereMs, then the loop is tried again', async () => {
    const { clock, calls, ran, call } = setup();
    await expect(call(5)).resolves.toBe('done'); // the slow call itself still answers
    expect(calls.elsewhere).toBe(true);
    await call();
    clock.t += 59_000;
    await call();
    clock.t += 1_001;
    await call();
    expect(ran).toEqual(['loop', 'pool', 'pool', 'loop']);
    expect(calls.elsewhere).toBe(false);
  });

  test('a slow call that throws sends the next calls elsewhere too', async () => {
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

  test('with smoothing, a lone slow call is not enough, a run of them is', () => {
    const clock = { t: 0 };
    const calls = new QuickOnLoop({ slowMs: 3, elsewhereMs: 60_000, smoothing: 0.25, now: () => clock.t });
    calls.took(1);
    calls.took(8); // mean 1 + 0.25 * 7 = 2.75
    expect(calls.elsewhere).toBe(false);
    calls.took(1); // 2.31
    calls.took(5); // 2.98
    expect(calls.elsewhere).toBe(false);
    calls.took(5); // 3.49
    expect(calls.elsewhere).toBe(true);
    clock.t += 60_001;
    calls.took(2); // a new mean after the slow spell
    expect(calls.elsewhere).toBe(false);
  });
});
