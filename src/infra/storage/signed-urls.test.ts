import { checkSignature, expiryFor, signature, signedUrl } from './signed-urls';

const secret = 'test-secret-of-enough-length-0123456789';
const t = { kind: 'image', id: '6f1c2b9e-1111-4222-8333-444455556666', variant: 'thumbnail' };

describe('signed URLs', () => {
  it('builds /files/images/<id>/<variant>?exp=&sig= expiring at the end of the ttl window after now + ttl', () => {
    // 1_700_000_000 + 300 = 1_700_000_300, rounded up to a multiple of 300.
    const url = new URL(signedUrl('https://api.example/', secret, t, 300, 1_700_000_000_000));
    expect(url.pathname).toBe(`/files/images/${t.id}/thumbnail`);
    expect(url.searchParams.get('exp')).toBe('1700000400');
    expect(url.searchParams.get('sig')).toBe(signature(secret, t, 1_700_000_400));
  });

  it('mints the same URL all through one window, and the next one from the window after', () => {
    const at = (s: number) => signedUrl('https://api.example', secret, t, 300, s * 1000);
    // Minted at 1_800_000_000.001 .. 1_800_000_300.000: all expire at 1_800_000_600.
    const window = [1_800_000_000.001, 1_800_000_001, 1_800_000_150.5, 1_800_000_299.999, 1_800_000_300];
    expect(new Set(window.map(at)).size).toBe(1);
    expect(new URL(at(1_800_000_000.001)).searchParams.get('exp')).toBe('1800000600');
    expect(at(1_800_000_300.001)).not.toBe(at(1_800_000_300));
    expect(new URL(at(1_800_000_300.001)).searchParams.get('exp')).toBe('1800000900');
  });

  it('keeps every URL valid for at least the ttl (at most twice it), also one minted at the end of its window', () => {
    const ttl = 300;
    for (const nowMs of [
      1_800_000_000_000, 1_800_000_000_001, 1_800_000_299_999, 1_800_000_300_000, 1_800_000_123_456,
    ]) {
      const exp = expiryFor(ttl, nowMs);
      expect(exp * 1000 - nowMs).toBeGreaterThanOrEqual(ttl * 1000);
      expect(exp * 1000 - nowMs).toBeLessThanOrEqual(2 * ttl * 1000);
      const sig = signature(secret, t, exp);
      // Still good one second before the minimum validity is over, and until the expiry.
      expect(checkSignature(secret, t, String(exp), sig, nowMs + (ttl - 1) * 1000)).toBe('OK');
      expect(checkSignature(secret, t, String(exp), sig, exp * 1000 - 1)).toBe('OK');
      expect(checkSignature(secret, t, String(exp), sig, exp * 1000)).toBe('EXPIRED');
    }
  });

  it('accepts its own signature until the expiry, then says EXPIRED', () => {
    const sig = signature(secret, t, 1000);
    expect(checkSignature(secret, t, '1000', sig, 999_999)).toBe('OK');
    expect(checkSignature(secret, t, '1000', sig, 1_000_000)).toBe('EXPIRED');
  });

  it('refuses any change of id, variant, expiry, secret or signature', () => {
    const sig = signature(secret, t, 5000);
    expect(checkSignature(secret, { ...t, variant: 'original' }, '5000', sig, 0)).toBe('INVALID');
    expect(checkSignature(secret, { ...t, id: t.id.replace('6', '7') }, '5000', sig, 0)).toBe('INVALID');
    expect(checkSignature(secret, t, '5001', sig, 0)).toBe('INVALID');
    expect(checkSignature('another-secret', t, '5000', sig, 0)).toBe('INVALID');
    expect(checkSignature(secret, t, '5000', sig.slice(0, -1) + (sig.endsWith('A') ? 'B' : 'A'), 0)).toBe('INVALID');
    expect(checkSignature(secret, t, '5000', sig.slice(1), 0)).toBe('INVALID');
    expect(checkSignature(secret, t, undefined, sig, 0)).toBe('INVALID');
    expect(checkSignature(secret, t, '5000', ['a'], 0)).toBe('INVALID');
    expect(checkSignature(secret, t, '1e9', sig, 0)).toBe('INVALID');
  });
});
