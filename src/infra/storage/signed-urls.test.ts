import { checkSignature, signature, signedUrl } from './signed-urls';

const secret = 'test-secret-of-enough-length-0123456789';
const t = { kind: 'image', id: '6f1c2b9e-1111-4222-8333-444455556666', variant: 'thumbnail' };

describe('signed URLs', () => {
  it('builds /files/images/<id>/<variant>?exp=&sig= with the expiry ttl seconds from now', () => {
    const url = new URL(signedUrl('https://api.example/', secret, t, 300, 1_700_000_000_000));
    expect(url.pathname).toBe(`/files/images/${t.id}/thumbnail`);
    expect(url.searchParams.get('exp')).toBe('1700000300');
    expect(url.searchParams.get('sig')).toBe(signature(secret, t, 1_700_000_300));
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
