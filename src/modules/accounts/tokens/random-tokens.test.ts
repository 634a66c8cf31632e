import { createHash } from 'node:crypto';
import { generateToken, hashToken, looksLikeToken, safeEqual, tokenMatchesHash } from './random-tokens';

describe('opaque tokens', () => {
  it('are 256-bit base64url strings, all different', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) seen.add(generateToken());
    expect(seen.size).toBe(1000);
    const t = generateToken();
    expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(t, 'base64url')).toHaveLength(32);
    expect(looksLikeToken(t)).toBe(true);
    expect(looksLikeToken(t + '=')).toBe(false);
    expect(looksLikeToken('a'.repeat(43).replace('a', '.'))).toBe(false);
  });

  it('refuses fewer than 128 bits', () => {
    expect(() => generateToken(15)).toThrow(RangeError);
    expect(Buffer.from(generateToken(16), 'base64url')).toHaveLength(16);
  });

  it('are stored as their SHA-256 (known answer for "abc")', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const t = generateToken();
    expect(hashToken(t)).toBe(createHash('sha256').update(t).digest('hex'));
    expect(tokenMatchesHash(t, hashToken(t))).toBe(true);
    expect(tokenMatchesHash(t + 'x', hashToken(t))).toBe(false);
  });

  it('safeEqual compares strings of any length', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
  });
});
