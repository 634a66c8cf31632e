import { MemoryCounterStore } from './counter-store';
import { DEFAULT_THROTTLE_POLICY, SignInThrottle, signInDelayMs } from './sign-in-throttle';

const policy = { freeFailures: 3, baseDelayMs: 1_000, maxDelayMs: 8_000, decayMs: 60_000 };

describe('progressive sign-in slowdown', () => {
  it('delay: none for the free failures, then doubling, capped', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 1000].map((n) => signInDelayMs(n, policy))).toEqual([
      0, 0, 0, 0, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000,
    ]);
    expect(signInDelayMs(1e9, DEFAULT_THROTTLE_POLICY)).toBe(DEFAULT_THROTTLE_POLICY.maxDelayMs);
  });

  it('makes the account wait after failures, never longer than the cap, and a success clears it', async () => {
    let t = 5_000_000;
    const throttle = new SignInThrottle(new MemoryCounterStore(() => t), policy, () => t);
    for (let i = 0; i < 3; i++) {
      await throttle.assertMayTry('jane');
      await throttle.recordFailure('jane');
    }
    await expect(throttle.assertMayTry('jane')).resolves.toBeUndefined();
    expect(await throttle.recordFailure('jane')).toEqual({ failures: 4, delayMs: 1_000 });
    await expect(throttle.assertMayTry('jane')).rejects.toMatchObject({
      extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 1 },
    });
    t += 1_000;
    await throttle.assertMayTry('jane');
    // Many more failures: the wait stops growing at the cap.
    for (let i = 0; i < 20; i++) await throttle.recordFailure('jane');
    expect(await throttle.waitMs('jane')).toBe(8_000);
    t += 8_000;
    expect(await throttle.waitMs('jane')).toBe(0); // the owner can always try again
    await throttle.recordSuccess('jane');
    await throttle.recordFailure('jane');
    expect(await throttle.waitMs('jane')).toBe(0);
  });

  it('failures decay after a quiet period', async () => {
    let t = 0;
    const throttle = new SignInThrottle(new MemoryCounterStore(() => t), policy, () => t);
    for (let i = 0; i < 6; i++) await throttle.recordFailure('bob');
    expect(await throttle.waitMs('bob')).toBe(4_000);
    t += 60_000;
    expect(await throttle.waitMs('bob')).toBe(0);
    expect((await throttle.recordFailure('bob')).failures).toBe(1);
  });

  it('refused attempts do not add failures (assertMayTry counts nothing)', async () => {
    const t = 0;
    const store = new MemoryCounterStore(() => t);
    const throttle = new SignInThrottle(store, policy, () => t);
    for (let i = 0; i < 4; i++) await throttle.recordFailure('eve');
    for (let i = 0; i < 10; i++) await throttle.assertMayTry('eve').catch(() => undefined);
    expect((await store.peek('signin-failures|eve'))?.count).toBe(4);
  });
});
