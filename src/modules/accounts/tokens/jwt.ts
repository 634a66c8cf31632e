import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, createLocalJWKSet, errors, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';
import { VerifiedTokens } from './verified-tokens';
import { AppError } from '../../../infra/errors';

/** The only signature algorithm accepted. `alg: none`, HS256 with the public key, RS/ES*: all refused. */
export const JWT_ALGORITHM = 'EdDSA';

/** `typ` header values; a token of one kind is never accepted as another (RFC 8725 §3.11). */
export const TokenType = {
  ACCESS: 'at+jwt', // RFC 9068
  TWO_FACTOR_CHALLENGE: 'dermagraph-2fa-challenge+jwt',
  /** "This client signed in to this account before" (OWASP device cookie); grants no access by itself. */
  DEVICE: 'dermagraph-device+jwt',
} as const;
export type TokenType = (typeof TokenType)[keyof typeof TokenType];

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: JWK;
}

/** One signing key (the newest) and every key whose tokens are still accepted. */
export class JwtKeyRing {
  constructor(readonly keys: SigningKey[]) {
    if (keys.length === 0) throw new Error('a JWT key ring needs at least one key');
  }

  get signing(): SigningKey {
    return this.keys[0];
  }

  /** The JSON served at /.well-known/jwks.json: public halves only. */
  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => ({ ...k.publicJwk })) };
  }
}

/** An Ed25519 key as an RFC 7638 thumbprint-identified pair. */
export async function signingKeyFrom(privateKey: KeyObject): Promise<SigningKey> {
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`JWT key must be Ed25519, got ${privateKey.asymmetricKeyType ?? privateKey.type}`);
  }
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  return { kid, privateKey, publicJwk: { ...jwk, kid, alg: JWT_ALGORITHM, use: 'sig' } };
}

/** Parses JWT_PRIVATE_KEY: a PKCS#8 PEM (literal `\n` accepted, as env files write it) or a private JWK as JSON. */
export function parsePrivateKey(value: string): KeyObject {
  const text = value.trim();
  if (text.startsWith('{')) return createPrivateKey({ key: JSON.parse(text), format: 'jwk' });
  return createPrivateKey(text.replace(/\\n/g, '\n'));
}

const KEY_FILE = /^jwt-(\d+)-([A-Za-z0-9_-]+)\.jwk\.json$/;

interface KeyFile {
  file: string;
  createdAt: number;
}

function listKeyFiles(dir: string): KeyFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((file) => ({ file, m: KEY_FILE.exec(file) }))
    .filter((x): x is { file: string; m: RegExpExecArray } => x.m !== null)
    .map(({ file, m }) => ({ file: path.join(dir, file), createdAt: Number(m[1]) }))
    .sort((a, b) => b.createdAt - a.createdAt);
}

/** Writes a new private key file readable by the owner only (0600) in a 0700 folder. */
async function createKeyFile(dir: string, now: number): Promise<void> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  const key = await signingKeyFrom(privateKey);
  const file = path.join(dir, `jwt-${now}-${key.kid}.jwk.json`);
  writeFileSync(file, JSON.stringify(privateKey.export({ format: 'jwk' })), { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
}

export interface KeyRingOptions {
  /** JWT_PRIVATE_KEY; when set it is the only key and nothing is written to disk. */
  privateKey?: string;
  /** DATA_DIR/keys: where generated keys live. */
  keyDir: string;
  now?: () => number;
}

/**
 * The key ring for this process: the configured key, else the keys under keyDir, creating the
 * first one on first start. Several api processes sharing DATA_DIR share the keys.
 */
export async function loadKeyRing(options: KeyRingOptions): Promise<JwtKeyRing> {
  if (options.privateKey) return new JwtKeyRing([await signingKeyFrom(parsePrivateKey(options.privateKey))]);
  if (listKeyFiles(options.keyDir).length === 0) {
    try {
      await createKeyFile(options.keyDir, (options.now ?? Date.now)());
    } catch (e) {
      // Another process won the race to create the first key: use its key.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  const keys = await Promise.all(
    listKeyFiles(options.keyDir).map(({ file }) =>
      signingKeyFrom(createPrivateKey({ key: JSON.parse(readFileSync(file, 'utf8')), format: 'jwk' })),
    ),
  );
  return new JwtKeyRing(keys);
}

/**
 * Rotation: a new signing key is created; the previous `keep - 1` keys stay in the JWKS so tokens
 * they signed (at most 15 minutes old) still verify; older ones are deleted.
 */
export async function rotateKeys(options: KeyRingOptions & { keep?: number }): Promise<JwtKeyRing> {
  if (options.privateKey) throw new Error('JWT_PRIVATE_KEY is set: rotate by changing it');
  const keep = Math.max(2, options.keep ?? 2);
  await createKeyFile(options.keyDir, (options.now ?? Date.now)());
  for (const old of listKeyFiles(options.keyDir).slice(keep)) unlinkSync(old.file);
  return loadKeyRing(options);
}

export interface TokenSettings {
  issuer: string;
  audience: string;
  /** Access token lifetime; 900 s by default. */
  accessTtlSeconds?: number;
  /** 2FA challenge lifetime: long enough to open an authenticator app. */
  challengeTtlSeconds?: number;
  /** Device token lifetime; 180 days by default. */
  deviceTtlSeconds?: number;
  clockToleranceSeconds?: number;
}

export interface AccessClaims {
  /** User id. */
  sub: string;
  role: string;
  /** Session (refresh-token family) id: lets a request check the session was not revoked. */
  sid: string;
}

export interface ChallengeClaims {
  sub: string;
  /** The device id of the sign-in's device token, carried to its second step (verifyTwoFactor). */
  did?: string;
}

export interface DeviceClaims {
  /** User id. */
  sub: string;
  /** Device id: its failed sign-ins are counted under it. */
  did: string;
  /** Fingerprint of the password hash it was issued under: a new password ends the token. */
  pwf: string;
}

export type JwtFailure = 'TOKEN_EXPIRED' | 'TOKEN_INVALID';

/** A clear UNAUTHENTICATED error: `reason` says expired vs invalid, nothing more (no library detail). */
export function jwtError(reason: JwtFailure): AppError {
  return new AppError(
    'UNAUTHENTICATED',
    reason === 'TOKEN_EXPIRED' ? 'The token has expired' : 'The token is invalid',
    { reason },
  );
}

/** Issues and checks EdDSA-signed JWTs: iss, aud, typ, exp always verified; only EdDSA accepted. */
export class JwtService {
  private readonly accessTtl: number;
  private readonly challengeTtl: number;
  private readonly deviceTtl: number;

  private lastReload = 0;
  /** The verification keys of `ring`, imported once (createLocalJWKSet caches what it imports). */
  private keySet: ReturnType<typeof createLocalJWKSet>;
  /** Tokens verified under `keySet`, by type and text (verified-tokens.ts). */
  readonly verified = new VerifiedTokens();

  /**
   * `reloadRing` (optional) re-reads the keys: another process sharing DATA_DIR may have rotated
   * them, so a token with an unknown `kid` triggers one reload (at most every 10 seconds).
   */
  constructor(
    private ring: JwtKeyRing,
    private readonly settings: TokenSettings,
    private readonly now: () => Date = () => new Date(),
    private readonly reloadRing?: () => Promise<JwtKeyRing>,
  ) {
    this.keySet = createLocalJWKSet(ring.jwks());
    this.accessTtl = settings.accessTtlSeconds ?? 900;
    this.challengeTtl = settings.challengeTtlSeconds ?? 300;
    this.deviceTtl = settings.deviceTtlSeconds ?? 180 * 86_400;
  }

  get accessTtlSeconds(): number {
    return this.accessTtl;
  }

  jwks(): { keys: JWK[] } {
    return this.ring.jwks();
  }

  private async sign(type: TokenType, payload: JWTPayload, subject: string, ttl: number): Promise<string> {
    const key = this.ring.signing;
    const iat = Math.floor(this.now().getTime() / 1000);
    return new SignJWT(payload)
      .setProtectedHeader({ alg: JWT_ALGORITHM, kid: key.kid, typ: type })
      .setIssuer(this.settings.issuer)
      .setAudience(this.settings.audience)
      .setSubject(subject)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttl)
      .setJti(randomUUID())
      .sign(key.privateKey);
  }

  signAccessToken(claims: AccessClaims): Promise<string> {
    return this.sign(TokenType.ACCESS, { role: claims.role, sid: claims.sid }, claims.sub, this.accessTtl);
  }

  signChallengeToken(claims: ChallengeClaims): Promise<string> {
    return this.sign(
      TokenType.TWO_FACTOR_CHALLENGE,
      claims.did ? { did: claims.did } : {},
      claims.sub,
      this.challengeTtl,
    );
  }

  signDeviceToken(claims: DeviceClaims): Promise<string> {
    return this.sign(TokenType.DEVICE, { did: claims.did, pwf: claims.pwf }, claims.sub, this.deviceTtl);
  }

  private async verify(token: string, type: TokenType, retried = false): Promise<JWTPayload> {
    if (typeof token !== 'string' || token.length > 4096) throw jwtError('TOKEN_INVALID');
    const currentDate = this.now();
    const tolerance = this.settings.clockToleranceSeconds ?? 5;
    const key = `${type} ${token}`;
    const known = this.verified.get(key, Math.floor(currentDate.getTime() / 1000), tolerance);
    if (known) return known;
    try {
      const { payload } = await jwtVerify(token, this.keySet, {
        algorithms: [JWT_ALGORITHM],
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        typ: type,
        requiredClaims: ['sub', 'exp', 'iat'],
        clockTolerance: tolerance,
        currentDate,
      });
      this.verified.set(key, payload);
      return payload;
    } catch (e) {
      if (e instanceof errors.JWTExpired) throw jwtError('TOKEN_EXPIRED');
      if (e instanceof errors.JWKSNoMatchingKey && !retried && (await this.reloadKeys()))
        return this.verify(token, type, true);
      throw jwtError('TOKEN_INVALID');
    }
  }

  /** Re-reads the key ring when allowed; true when it now holds keys it did not before. */
  private async reloadKeys(): Promise<boolean> {
    if (!this.reloadRing || Date.now() - this.lastReload < 10_000) return false;
    this.lastReload = Date.now();
    const before = new Set(this.ring.keys.map((k) => k.kid));
    try {
      this.ring = await this.reloadRing();
      this.keySet = createLocalJWKSet(this.ring.jwks());
      // Verified under the keys before: a key the new ring no longer holds must not keep its tokens valid.
      this.verified.clear();
    } catch {
      return false;
    }
    return this.ring.keys.some((k) => !before.has(k.kid));
  }

  /** The claims and `exp` (epoch seconds: WebSocket connections close then). */
  async verifyAccessToken(token: string): Promise<AccessClaims & { exp: number }> {
    const p = await this.verify(token, TokenType.ACCESS);
    if (typeof p.role !== 'string' || typeof p.sid !== 'string') throw jwtError('TOKEN_INVALID');
    return { sub: p.sub!, role: p.role, sid: p.sid, exp: p.exp! };
  }

  async verifyChallengeToken(token: string): Promise<ChallengeClaims> {
    const p = await this.verify(token, TokenType.TWO_FACTOR_CHALLENGE);
    return typeof p.did === 'string' ? { sub: p.sub!, did: p.did } : { sub: p.sub! };
  }

  async verifyDeviceToken(token: string): Promise<DeviceClaims> {
    const p = await this.verify(token, TokenType.DEVICE);
    if (typeof p.did !== 'string' || typeof p.pwf !== 'string') throw jwtError('TOKEN_INVALID');
    return { sub: p.sub!, did: p.did, pwf: p.pwf };
  }
}

/** `Authorization: Bearer <token>` (HTTP header or graphql-ws connectionParams) -> the token, or null. */
export function bearerToken(header: unknown): string | null {
  if (typeof header !== 'string') return null;
  const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim());
  return m ? m[1] : null;
}
