import { createHmac, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, UnsecuredJWT, decodeProtectedHeader } from 'jose';
import { bearerToken, JwtService, loadKeyRing, rotateKeys, signingKeyFrom, TokenType } from './jwt';

const settings = { issuer: 'dermagraph-test', audience: 'dermagraph-api-test' };
const claims = { sub: 'user-1', role: 'CLINICIAN', sid: 'family-1' };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dg-jwt-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function expectReason(p: Promise<unknown>, reason: string) {
  await expect(p).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED', reason } });
}

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('JWT key ring', () => {
  it('kid is the RFC 7638 thumbprint (RFC 8037 appendix A.3 known answer)', async () => {
    // The Ed25519 key of RFC 8037 A.1; its thumbprint is given in A.3.
    const { createPrivateKey } = await import('node:crypto');
    const key = createPrivateKey({
      format: 'jwk',
      key: {
        kty: 'OKP',
        crv: 'Ed25519',
        d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A',
        x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
      },
    });
    expect((await signingKeyFrom(key)).kid).toBe('kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k');
  });

  it('generates an Ed25519 key on first start, persists it 0600, and reuses it', async () => {
    const keyDir = path.join(dir, 'keys');
    const a = await loadKeyRing({ keyDir });
    const files = readdirSync(keyDir);
    expect(files).toHaveLength(1);
    expect(statSync(path.join(keyDir, files[0])).mode & 0o777).toBe(0o600);
    expect(statSync(keyDir).mode & 0o777).toBe(0o700);
    const b = await loadKeyRing({ keyDir });
    expect(b.signing.kid).toBe(a.signing.kid);
    expect(a.jwks().keys[0]).toEqual({
      kty: 'OKP',
      crv: 'Ed25519',
      x: expect.any(String),
      kid: a.signing.kid,
      alg: 'EdDSA',
      use: 'sig',
    });
    expect(JSON.stringify(a.jwks())).not.toContain('"d"');
  });

  it('uses JWT_PRIVATE_KEY (PEM with escaped newlines) without touching the disk', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = (privateKey.export({ format: 'pem', type: 'pkcs8' }) as string).replace(/\n/g, '\\n');
    const ring = await loadKeyRing({ keyDir: path.join(dir, 'unused'), privateKey: pem });
    expect(ring.keys).toHaveLength(1);
    expect(() => readdirSync(path.join(dir, 'unused'))).toThrow();
  });

  it('refuses a non-Ed25519 configured key', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await expect(
      loadKeyRing({ keyDir: dir, privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string }),
    ).rejects.toThrow(/Ed25519/);
  });

  it('rotation: the new key signs, the old one still verifies, the oldest is dropped', async () => {
    const keyDir = path.join(dir, 'keys');
    let t = 1_000;
    const now = () => t;
    const first = await loadKeyRing({ keyDir, now });
    const oldToken = await new JwtService(first, settings).signAccessToken(claims);
    t = 2_000;
    const second = await rotateKeys({ keyDir, now });
    expect(second.signing.kid).not.toBe(first.signing.kid);
    expect(second.jwks().keys.map((k) => k.kid)).toEqual([second.signing.kid, first.signing.kid]);
    const svc = new JwtService(second, settings);
    expect(decodeProtectedHeader(await svc.signAccessToken(claims)).kid).toBe(second.signing.kid);
    await expect(svc.verifyAccessToken(oldToken)).resolves.toMatchObject(claims);
    t = 3_000;
    const third = await rotateKeys({ keyDir, now });
    expect(third.keys).toHaveLength(2);
    await expectReason(new JwtService(third, settings).verifyAccessToken(oldToken), 'TOKEN_INVALID');
  });
});

describe('keys rotated by another process', () => {
  it('a token with an unknown kid makes the service re-read the keys once', async () => {
    const keyDir = path.join(dir, 'keys');
    let t = 1_000;
    const now = () => t;
    let reloads = 0;
    const reader = new JwtService(await loadKeyRing({ keyDir, now }), settings, undefined, () => {
      reloads++;
      return loadKeyRing({ keyDir, now });
    });
    t = 2_000;
    const rotated = await rotateKeys({ keyDir, now }); // "another process"
    const token = await new JwtService(rotated, settings).signAccessToken(claims);
    await expect(reader.verifyAccessToken(token)).resolves.toMatchObject(claims);
    expect(reloads).toBe(1);
    expect(reader.jwks().keys).toHaveLength(2);
    // A token from a key nobody has: one reload at most per 10 s, then TOKEN_INVALID.
    const { privateKey } = generateKeyPairSync('ed25519');
    const stranger = await new SignJWT({ role: 'ADMIN', sid: 'x' })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'nobody' })
      .setSubject('u')
      .setIssuer(settings.issuer)
      .setAudience(settings.audience)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    await expectReason(reader.verifyAccessToken(stranger), 'TOKEN_INVALID');
    await expectReason(reader.verifyAccessToken(stranger), 'TOKEN_INVALID');
    expect(reloads).toBe(1);
  });
});

describe('JwtService', () => {
  let svc: JwtService;
  let ring: Awaited<ReturnType<typeof loadKeyRing>>;
  beforeEach(async () => {
    ring = await loadKeyRing({ keyDir: dir });
    svc = new JwtService(ring, settings);
  });

  it('signs a 15-minute access token with kid, typ, iss, aud and verifies it', async () => {
    const token = await svc.signAccessToken(claims);
    const header = decodeProtectedHeader(token);
    expect(header).toEqual({ alg: 'EdDSA', kid: ring.signing.kid, typ: 'at+jwt' });
    const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    expect(payload).toMatchObject({
      iss: settings.issuer,
      aud: settings.audience,
      sub: 'user-1',
      role: 'CLINICIAN',
      sid: 'family-1',
    });
    expect(payload.exp - payload.iat).toBe(900);
    await expect(svc.verifyAccessToken(token)).resolves.toEqual({ ...claims, exp: payload.exp });
  });

  it('a token verified before is answered without verifying it again, and only while it is valid', async () => {
    let t = Date.now();
    const clocked = new JwtService(ring, settings, () => new Date(t));
    const token = await clocked.signAccessToken(claims);
    const first = await clocked.verifyAccessToken(token);
    await expect(clocked.verifyAccessToken(token)).resolves.toEqual(first);
    expect(clocked.verified.hits).toBe(1);
    // The same text with one signature character changed is another token: verified, and refused.
    const flipped = token.slice(0, -2) + (token.at(-2) === 'A' ? 'B' : 'A') + token.at(-1);
    await expectReason(clocked.verifyAccessToken(flipped), 'TOKEN_INVALID');
    // Kept as an access token, it is still not a challenge token.
    await expectReason(clocked.verifyChallengeToken(token), 'TOKEN_INVALID');
    // 15 minutes later (past the 5 s tolerance) it is expired, kept or not.
    t += 905_000;
    await expectReason(clocked.verifyAccessToken(token), 'TOKEN_EXPIRED');
    expect(clocked.verified.hits).toBe(1);
  });

  it('keys re-read after a rotation elsewhere: what was verified before is verified again', async () => {
    const keyDir = path.join(dir, 'rotating');
    const reader = new JwtService(await loadKeyRing({ keyDir }), settings, undefined, () => loadKeyRing({ keyDir }));
    const token = await reader.signAccessToken(claims);
    await reader.verifyAccessToken(token);
    expect(reader.verified.size).toBe(1);
    const rotated = await rotateKeys({ keyDir, now: () => Date.now() + 1000 });
    await reader.verifyAccessToken(await new JwtService(rotated, settings).signAccessToken(claims));
    // The reload forgot the first token; the new one was verified under the new ring and kept.
    expect(reader.verified.size).toBe(1);
    await expect(reader.verifyAccessToken(token)).resolves.toMatchObject(claims);
    expect(reader.verified.hits).toBe(0);
  });

  it('expired token -> TOKEN_EXPIRED', async () => {
    const past = new JwtService(ring, settings, () => new Date(Date.now() - 3600_000));
    await expectReason(svc.verifyAccessToken(await past.signAccessToken(claims)), 'TOKEN_EXPIRED');
  });

  it('tampered payload -> TOKEN_INVALID', async () => {
    const [h, , s] = (await svc.signAccessToken(claims)).split('.');
    const forged = `${h}.${b64({ ...claims, role: 'ADMIN', iss: settings.issuer, aud: settings.audience, exp: 9e9, iat: 1 })}.${s}`;
    await expectReason(svc.verifyAccessToken(forged), 'TOKEN_INVALID');
  });

  it('alg: none -> TOKEN_INVALID', async () => {
    const none = new UnsecuredJWT({ role: 'ADMIN', sid: 'x' })
      .setSubject('u')
      .setIssuer(settings.issuer)
      .setAudience(settings.audience)
      .setIssuedAt()
      .setExpirationTime('1h')
      .encode();
    await expectReason(svc.verifyAccessToken(none), 'TOKEN_INVALID');
    // Same with the typ header set and the kid of a real key.
    const hand = `${b64({ alg: 'none', typ: 'at+jwt', kid: ring.signing.kid })}.${b64({ sub: 'u', role: 'ADMIN', sid: 'x', iss: settings.issuer, aud: settings.audience, iat: 1, exp: 9e9 })}.`;
    await expectReason(svc.verifyAccessToken(hand), 'TOKEN_INVALID');
  });

  it('HS256 signed with the public key (algorithm confusion) -> TOKEN_INVALID', async () => {
    const header = b64({ alg: 'HS256', typ: 'at+jwt', kid: ring.signing.kid });
    const body = b64({
      sub: 'u',
      role: 'ADMIN',
      sid: 'x',
      iss: settings.issuer,
      aud: settings.audience,
      iat: Math.floor(Date.now() / 1000),
      exp: 9e9,
    });
    const sig = createHmac('sha256', JSON.stringify(ring.jwks().keys[0]))
      .update(`${header}.${body}`)
      .digest('base64url');
    await expectReason(svc.verifyAccessToken(`${header}.${body}.${sig}`), 'TOKEN_INVALID');
  });

  it('token from another key (same kid claimed or not) -> TOKEN_INVALID', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    for (const kid of [ring.signing.kid, 'someone-else']) {
      const t = await new SignJWT({ role: 'ADMIN', sid: 'x' })
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
        .setSubject('u')
        .setIssuer(settings.issuer)
        .setAudience(settings.audience)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
      await expectReason(svc.verifyAccessToken(t), 'TOKEN_INVALID');
    }
  });

  it('wrong audience, wrong issuer -> TOKEN_INVALID', async () => {
    const otherAud = new JwtService(ring, { ...settings, audience: 'another-api' });
    await expectReason(svc.verifyAccessToken(await otherAud.signAccessToken(claims)), 'TOKEN_INVALID');
    const otherIss = new JwtService(ring, { ...settings, issuer: 'evil' });
    await expectReason(svc.verifyAccessToken(await otherIss.signAccessToken(claims)), 'TOKEN_INVALID');
  });

  it('a 2FA challenge token is not an access token and vice versa (typ checked)', async () => {
    const challenge = await svc.signChallengeToken({ sub: 'user-1' });
    expect(decodeProtectedHeader(challenge).typ).toBe(TokenType.TWO_FACTOR_CHALLENGE);
    await expect(svc.verifyChallengeToken(challenge)).resolves.toEqual({ sub: 'user-1' });
    await expectReason(svc.verifyAccessToken(challenge), 'TOKEN_INVALID');
    await expectReason(svc.verifyChallengeToken(await svc.signAccessToken(claims)), 'TOKEN_INVALID');
  });

  it('a device token is neither an access nor a challenge token, and carries its device id (typ checked)', async () => {
    const device = await svc.signDeviceToken({ sub: 'user-1', did: 'device-1', pwf: 'fingerprint' });
    expect(decodeProtectedHeader(device).typ).toBe(TokenType.DEVICE);
    await expect(svc.verifyDeviceToken(device)).resolves.toEqual({
      sub: 'user-1',
      did: 'device-1',
      pwf: 'fingerprint',
    });
    await expectReason(svc.verifyAccessToken(device), 'TOKEN_INVALID');
    await expectReason(svc.verifyChallengeToken(device), 'TOKEN_INVALID');
    await expectReason(svc.verifyDeviceToken(await svc.signAccessToken(claims)), 'TOKEN_INVALID');
    await expectReason(
      svc.verifyDeviceToken(await svc.signChallengeToken({ sub: 'user-1', did: 'device-1' })),
      'TOKEN_INVALID',
    );
    await expect(
      svc.verifyChallengeToken(await svc.signChallengeToken({ sub: 'user-1', did: 'device-1' })),
    ).resolves.toEqual({ sub: 'user-1', did: 'device-1' });
  });

  it('garbage and oversized input -> TOKEN_INVALID', async () => {
    await expectReason(svc.verifyAccessToken('not.a.jwt'), 'TOKEN_INVALID');
    await expectReason(svc.verifyAccessToken(''), 'TOKEN_INVALID');
    await expectReason(svc.verifyAccessToken('a'.repeat(100_000)), 'TOKEN_INVALID');
  });

  it('verifies an EdDSA signature with node:crypto too (independent check of the JWS)', async () => {
    const { verify, createPublicKey } = await import('node:crypto');
    const token = await svc.signAccessToken(claims);
    const [h, p, s] = token.split('.');
    const pub = createPublicKey({ format: 'jwk', key: ring.jwks().keys[0] as never });
    expect(verify(null, Buffer.from(`${h}.${p}`), pub, Buffer.from(s, 'base64url'))).toBe(true);
  });
});

describe('bearerToken', () => {
  it('extracts the token from an Authorization value', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('bearer abc.def.ghi ')).toBe('abc.def.ghi');
    expect(bearerToken('Basic dXNlcjpwYXNz')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
    expect(bearerToken('Bearer a b')).toBeNull();
  });
});
