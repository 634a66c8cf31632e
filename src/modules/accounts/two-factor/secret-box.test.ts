import { SecretBox, SecretBoxError } from './secret-box';

describe('SecretBox (AES-256-GCM at rest)', () => {
  const box = new SecretBox('a-test-key-that-is-long-enough-0123456789');

  it('round-trips and never repeats a ciphertext (random IV)', () => {
    const a = box.encrypt('JBSWY3DPEHPK3PXP', 'user-1');
    const b = box.encrypt('JBSWY3DPEHPK3PXP', 'user-1');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^v1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(a).not.toContain('JBSWY3DPEHPK3PXP');
    expect(box.decrypt(a, 'user-1')).toBe('JBSWY3DPEHPK3PXP');
  });

  it('refuses tampering, another row (aad), another key and unknown versions', () => {
    const c = box.encrypt('secret', 'user-1');
    const parts = c.split('.');
    const flipped = Buffer.from(parts[3], 'base64url');
    flipped[0] ^= 1;
    expect(() =>
      box.decrypt([...parts.slice(0, 3), flipped.toString('base64url'), parts[4]].join('.'), 'user-1'),
    ).toThrow(SecretBoxError);
    expect(() => box.decrypt(c, 'user-2')).toThrow(SecretBoxError);
    expect(() => new SecretBox('another key').decrypt(c, 'user-1')).toThrow(/key this server does not have/);
    expect(() => box.decrypt('v2' + c.slice(2), 'user-1')).toThrow(/format/);
  });

  it('reads rows written under a previous key and says they need re-encryption', () => {
    const old = new SecretBox('old-key');
    const c = old.encrypt('secret', 'u');
    const rotated = new SecretBox('new-key', ['old-key']);
    expect(rotated.decrypt(c, 'u')).toBe('secret');
    expect(rotated.needsReencrypt(c)).toBe(true);
    expect(rotated.needsReencrypt(rotated.encrypt('secret', 'u'))).toBe(false);
    // reencrypt: the same secret under the current key; null when it already is.
    const moved = rotated.reencrypt(c, 'u')!;
    expect(new SecretBox('new-key').decrypt(moved, 'u')).toBe('secret');
    expect(rotated.reencrypt(moved, 'u')).toBeNull();
    expect(() => rotated.reencrypt(c, 'other-row')).toThrow(SecretBoxError);
  });
});
