import { VerifiedTokens, withinTimeClaims } from './verified-tokens';

describe('withinTimeClaims (the same bounds as jose jwtVerify)', () => {
  const tol = 5;
  it('exp: valid while exp > now - tolerance', () => {
    expect(withinTimeClaims({ exp: 1000 }, 1004, tol)).toBe(true);
    expect(withinTimeClaims({ exp: 1000 }, 1005, tol)).toBe(false); // exp <= now - tolerance: expired
    expect(withinTimeClaims({ exp: 1000 }, 1000 + 4, 0)).toBe(false);
  });
  it('nbf: refused once nbf > now + tolerance', () => {
    expect(withinTimeClaims({ exp: 2000, nbf: 1005 }, 1000, tol)).toBe(true);
    expect(withinTimeClaims({ exp: 2000, nbf: 1006 }, 1000, tol)).toBe(false);
  });
  it('no exp: never kept valid', () => {
    expect(withinTimeClaims({ sub: 'u' }, 1000, tol)).toBe(false);
  });
});

describe('VerifiedTokens', () => {
  it('answers a kept payload until it expires, then forgets it', () => {
    const v = new VerifiedTokens();
    v.set('a', { sub: 'u', exp: 100 });
    expect(v.get('a', 90, 0)).toEqual({ sub: 'u', exp: 100 });
    expect(v.get('b', 90, 0)).toBeUndefined();
    expect(v.hits).toBe(1);
    expect(v.get('a', 100, 0)).toBeUndefined();
    expect(v.size).toBe(0);
  });
  it('keeps at most maxEntries, the oldest going first; kept payloads are frozen copies', () => {
    const v = new VerifiedTokens(2);
    const p = { sub: 'u', exp: 100 };
    v.set('a', p);
    v.set('b', p);
    v.set('c', p);
    expect([v.get('a', 0, 0), v.get('b', 0, 0), v.get('c', 0, 0)].map(Boolean)).toEqual([false, true, true]);
    p.sub = 'changed';
    expect(v.get('b', 0, 0)).toEqual({ sub: 'u', exp: 100 });
    expect(Object.isFrozen(v.get('b', 0, 0))).toBe(true);
  });
});
