import { createHash } from 'node:crypto';
import {
  findUnusedRecoveryCode,
  generateRecoveryCodes,
  hashRecoveryCode,
  normalizeRecoveryCode,
  RECOVERY_CODE_COUNT,
} from './recovery-codes';

describe('recovery codes', () => {
  it('makes 10 distinct human-friendly codes of 80 bits and their SHA-256 hashes', () => {
    const { codes, hashes } = generateRecoveryCodes();
    expect(RECOVERY_CODE_COUNT).toBe(10);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(/^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$/);
    expect(hashes[0]).toBe(createHash('sha256').update(codes[0]).digest('hex'));
    expect(hashes.join()).not.toContain(codes[0]);
  });

  it('accepts what people type: upper case, no dashes, spaces, O for 0 and I/L for 1', () => {
    expect(normalizeRecoveryCode('7K3M Q9X2 HD4E PW1R')).toBe('7k3m-q9x2-hd4e-pw1r');
    expect(normalizeRecoveryCode('7k3mq9x2hd4epwlr')).toBe('7k3m-q9x2-hd4e-pw1r');
    expect(normalizeRecoveryCode('0000-o000-0000-0000')).toBe('0000-0000-0000-0000');
    expect(normalizeRecoveryCode('123456')).toBeNull(); // a TOTP code, not a recovery code
    expect(normalizeRecoveryCode('7k3m-q9x2-hd4e-pw1u')).toBeNull(); // u is not in the alphabet
    expect(normalizeRecoveryCode('x'.repeat(1000))).toBeNull();
  });

  it('matches a stored unused code once; a used one is refused', () => {
    const { codes, hashes } = generateRecoveryCodes();
    const rows = hashes.map((codeHash, i) => ({ id: i, codeHash, usedAt: null as Date | null }));
    const hit = findUnusedRecoveryCode(codes[3].toUpperCase().replace(/-/g, ' '), rows);
    expect(hit?.id).toBe(3);
    hit!.usedAt = new Date();
    expect(findUnusedRecoveryCode(codes[3], rows)).toBeNull();
    expect(findUnusedRecoveryCode(codes[4], rows)?.id).toBe(4);
    expect(findUnusedRecoveryCode('zzzz-zzzz-zzzz-zzzz', rows)).toBeNull();
    expect(hashRecoveryCode(codes[5].toUpperCase())).toBe(hashes[5]);
  });
});
