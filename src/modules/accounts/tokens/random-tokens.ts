import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 random bytes (256 bits; the floor is 128) as base64url: 43 characters, URL- and header-safe. */
export const TOKEN_BYTES = 32;

export function generateToken(bytes = TOKEN_BYTES): string {
  if (bytes < 16) throw new RangeError('tokens need at least 128 bits');
  return randomBytes(bytes).toString('base64url');
}

/**
 * What the database keeps instead of the token: SHA-256, hex. The token is high-entropy random, so
 * a fast unsalted hash is enough (no dictionary to attack), and it allows lookup by hash.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time string equality (lengths are compared on fixed-size digests). */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}

/** Checks a presented token against a stored hash in constant time. */
export function tokenMatchesHash(token: string, storedHash: string): boolean {
  return safeEqual(hashToken(token), storedHash);
}

/** Cheap shape check before any database work: base64url of the expected length, nothing else. */
export function looksLikeToken(value: string, bytes = TOKEN_BYTES): boolean {
  return value.length === Math.ceil((bytes * 4) / 3) && /^[A-Za-z0-9_-]+$/.test(value);
}
