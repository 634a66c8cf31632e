import { MemoryCounterStore } from './counter-store';
import { LoginGuard, type SignInClient } from './login-guard';
import { RateLimiter, type LoginRateLimits } from './rate-limit';
import { SignInThrottle } from './sign-in-throttle';

const rule = (max: number) => ({ name: 'login', max, windowMs: 900_000 });
const limits: LoginRateLimits = { perIp: rule(1000), perAccount: rule(3), perPair: rule(5), perDevice: rule(5) };
const policy = { freeFailures: 1, baseDelayMs: 60_000, maxDelayMs: 300_000, decayMs: 3_600_000 };

/** Issue [7]: strangers' failures must not lock the owner out (per-account limits did). */
describe('LoginGuard: lanes per device and per account+IP, a shared budget only for strangers', () => {
  let t: number;
  let guard: LoginGuard;
  const knownIps = new Set(['owner-home']);
  const client = (ip: string, deviceId: string | null = null): SignInClient => ({
    account: 'email:jane@example.org',
    ip,
    deviceId,
    knownIp: async () => knownIps.has(ip),
  });
  const attempt = async (c: SignInClient, ok = false) => {
    try {
      await guard.admit(c);
    } catch (e) {
      return (e as { extensions: { code: string } }).extensions.code;
    }
    await (ok ? guard.succeeded(c) : guard.failed(c));
    return ok ? 'OK' : 'WRONG';
  };

  beforeEach(() => {
    t = 1_000_000;
    const counters = new MemoryCounterStore(() => t);
    guard = new LoginGuard(new RateLimiter(counters), new SignInThrottle(counters, policy, () => t), limits);
  });

  it('a stranger is slowed in its own lane, and strangers together spend the account budget', async () => {
    expect([await attempt(client('evil-1')), await attempt(client('evil-1')), await attempt(client('evil-1'))]).toEqual(
      ['WRONG', 'WRONG', 'RATE_LIMITED'],
    );
    // The account's shared budget (3) has one attempt left (the refused one counted nothing there).
    expect(await attempt(client('evil-2'))).toBe('WRONG');
    expect(await attempt(client('evil-3'), true)).toBe('RATE_LIMITED');
  });

  it('the owner is not held: not on a known device, not from a known IP, and not by the stranger lanes', async () => {
    for (const ip of ['evil-1', 'evil-2', 'evil-3', 'evil-4']) await attempt(client(ip));
    expect(await attempt(client('evil-5'), true)).toBe('RATE_LIMITED');
    expect(await attempt(client('cafe-wifi', 'device-1'), true)).toBe('OK');
    expect(await attempt(client('owner-home'), true)).toBe('OK');
  });

  it('a device lane has its own slowdown, and a good sign-in clears it', async () => {
    const device = client('anywhere', 'device-1');
    expect([await attempt(device), await attempt(device), await attempt(device, true)]).toEqual([
      'WRONG',
      'WRONG',
      'RATE_LIMITED',
    ]);
    t += 60_000;
    expect(await attempt(device, true)).toBe('OK');
    expect([await attempt(device), await attempt(device)]).toEqual(['WRONG', 'WRONG']);
  });

  it('a password reset gives the account budget back', async () => {
    for (const ip of ['evil-1', 'evil-2', 'evil-3']) await attempt(client(ip));
    expect(await attempt(client('new-laptop'), true)).toBe('RATE_LIMITED');
    await guard.accountRecovered('email:jane@example.org');
    expect(await attempt(client('new-laptop'), true)).toBe('OK');
  });
});
