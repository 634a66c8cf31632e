import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import QRCode from 'qrcode';
import { generateTotpSecret, normalizeTotpCode, totpQrCodeDataUrl, totpUri, verifyTotp } from './totp';

/** RFC 6238 appendix B: SHA-1 seed "12345678901234567890" (ASCII), 8-digit codes. */
const RFC_SECRET_BASE32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const RFC_VECTORS: Array<[number, string]> = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

/** An independent RFC 4226/6238 implementation (node:crypto HMAC), used only to compute test codes. */
function base32Decode(s: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of s.replace(/=+$/, '')) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const bytes = bits.match(/.{8}/g) ?? [];
  return Buffer.from(bytes.map((b) => parseInt(b, 2)));
}
function referenceTotp(secretBase32: string, epochSeconds: number, digits = 6): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(epochSeconds / 30)));
  const mac = createHmac('sha1', base32Decode(secretBase32)).update(counter).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const bin = mac.readUInt32BE(off) & 0x7fffffff;
  return String(bin % 10 ** digits).padStart(digits, '0');
}
function oathtool(secretBase32: string, epochSeconds: number): string {
  return execFileSync('oathtool', ['--totp', '--base32', secretBase32, '-N', `@${epochSeconds}`], {
    encoding: 'utf8',
  }).trim();
}
const at = (s: number) => new Date(s * 1000);

describe('TOTP', () => {
  it('the reference implementation reproduces the RFC 6238 SHA-1 vectors', () => {
    for (const [t, code] of RFC_VECTORS) expect(referenceTotp(RFC_SECRET_BASE32, t, 8)).toBe(code);
  });

  it('accepts the RFC 6238 codes (6-digit form) at their times, returning the time step', async () => {
    for (const [t, code8] of RFC_VECTORS) {
      const r = await verifyTotp({ secret: RFC_SECRET_BASE32, code: code8.slice(-6), now: at(t) });
      expect(r).toEqual({ ok: true, timeStep: Math.floor(t / 30) });
    }
  });

  it('oathtool computes the same codes we accept, on a secret we generated', async () => {
    const secret = generateTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/); // 20 bytes
    for (const t of [1_700_000_000, 1_800_000_015, 1_900_000_029]) {
      const code = oathtool(secret, t);
      expect(code).toBe(referenceTotp(secret, t));
      await expect(verifyTotp({ secret, code, now: at(t) })).resolves.toEqual({
        ok: true,
        timeStep: Math.floor(t / 30),
      });
    }
  });

  it('allows one step of drift either way and not two', async () => {
    const secret = generateTotpSecret();
    const t = 1_700_000_010; // step 56666667
    const step = Math.floor(t / 30);
    const codeAt = (s: number) => oathtool(secret, s * 30);
    await expect(verifyTotp({ secret, code: codeAt(step - 1), now: at(t) })).resolves.toEqual({
      ok: true,
      timeStep: step - 1,
    });
    await expect(verifyTotp({ secret, code: codeAt(step + 1), now: at(t) })).resolves.toEqual({
      ok: true,
      timeStep: step + 1,
    });
    await expect(verifyTotp({ secret, code: codeAt(step - 2), now: at(t) })).resolves.toEqual({
      ok: false,
      reason: 'INVALID',
    });
    await expect(verifyTotp({ secret, code: codeAt(step + 2), now: at(t) })).resolves.toEqual({
      ok: false,
      reason: 'INVALID',
    });
  });

  it('refuses a replayed code and any code not newer than the last used step', async () => {
    const secret = generateTotpSecret();
    const t = 1_700_000_010;
    const step = Math.floor(t / 30);
    const code = oathtool(secret, t);
    const first = await verifyTotp({ secret, code, now: at(t) });
    expect(first).toEqual({ ok: true, timeStep: step });
    // Same code again, even 25 s later (still within drift): refused.
    await expect(verifyTotp({ secret, code, lastUsedStep: step, now: at(t + 25) })).resolves.toEqual({
      ok: false,
      reason: 'REPLAYED',
    });
    // The previous step's code is also refused once a newer one was used.
    await expect(
      verifyTotp({ secret, code: oathtool(secret, t - 30), lastUsedStep: step, now: at(t) }),
    ).resolves.toEqual({ ok: false, reason: 'REPLAYED' });
    // The next step's code is fine.
    await expect(
      verifyTotp({ secret, code: oathtool(secret, t + 30), lastUsedStep: step, now: at(t + 30) }),
    ).resolves.toEqual({ ok: true, timeStep: step + 1 });
  });

  it('refuses malformed codes without throwing', async () => {
    const secret = generateTotpSecret();
    for (const code of ['', '12345', '1234567', 'abcdef', '12345a', '1'.repeat(10_000)]) {
      await expect(verifyTotp({ secret, code })).resolves.toEqual({ ok: false, reason: 'INVALID' });
    }
    expect(normalizeTotpCode(' 123 456 ')).toBe('123456');
    expect(normalizeTotpCode('123-456')).toBe('123456');
  });

  it('builds an otpauth URI and a QR code PNG that decodes back to it', async () => {
    const secret = generateTotpSecret();
    const uri = totpUri({ secret, account: 'jane@example.org', issuer: 'Dermagraph' });
    const u = new URL(uri);
    expect(u.protocol).toBe('otpauth:');
    expect(u.host).toBe('totp');
    expect(decodeURIComponent(u.pathname)).toBe('/Dermagraph:jane@example.org');
    expect(u.searchParams.get('secret')).toBe(secret);
    expect(u.searchParams.get('issuer')).toBe('Dermagraph');
    const dataUrl = await totpQrCodeDataUrl(uri);
    expect(dataUrl).toMatch(/^data:image\/png;base64,/);
    const png = Buffer.from(dataUrl.split(',')[1], 'base64');
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    // The QR segments encode exactly the URI.
    const qr = QRCode.create(uri, { errorCorrectionLevel: 'M' });
    expect(
      qr.segments.map((s: { data: Uint8Array | string }) => Buffer.from(s.data as Uint8Array).toString()).join(''),
    ).toBe(uri);
  });
});
