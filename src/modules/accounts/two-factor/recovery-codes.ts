import { randomInt } from 'node:crypto';
import { hashToken, safeEqual } from '../tokens/random-tokens';

/** Crockford base32: no i, l, o, u, so nothing reads as another character. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
export const RECOVERY_CODE_COUNT = 10;
/** 16 characters x 5 bits = 80 bits: SHA-256 storage is then safe against offline guessing. */
const CODE_CHARS = 16;

/** One code, shown as four groups of four: "7k3m-q9x2-hd4e-pw1r". */
export function generateRecoveryCode(): string {
  let raw = '';
  for (let i = 0; i < CODE_CHARS; i++) raw += ALPHABET[randomInt(ALPHABET.length)];
  return raw.match(/.{4}/g)!.join('-');
}

/**
 * Codes to show once, and the hashes to store. Never store or log the codes themselves.
 */
export function generateRecoveryCodes(count = RECOVERY_CODE_COUNT): { codes: string[]; hashes: string[] } {
  const codes = new Set<string>();
  while (codes.size < count) codes.add(generateRecoveryCode());
  const list = [...codes];
  return { codes: list, hashes: list.map(hashRecoveryCode) };
}

/** What a person typed -> canonical form, or null when it cannot be a recovery code. */
export function normalizeRecoveryCode(input: string): string | null {
  if (input.length > 64) return null;
  const c = input.toLowerCase().replace(/[\s-]/g, '').replace(/o/g, '0').replace(/[il]/g, '1');
  if (c.length !== CODE_CHARS || ![...c].every((ch) => ALPHABET.includes(ch))) return null;
  return c.match(/.{4}/g)!.join('-');
}

export function hashRecoveryCode(code: string): string {
  const n = normalizeRecoveryCode(code);
  if (!n) throw new Error('not a recovery code');
  return hashToken(n);
}

export interface StoredRecoveryCode {
  codeHash: string;
  usedAt?: Date | null;
}

/**
 * The stored code the input matches, if it is unused; compares against every row in constant time
 * so the position of a match does not show. Marking it used is the caller's job, in the same
 * transaction, with a conditional update (`used_at is null`) so two concurrent uses cannot both win.
 */
export function findUnusedRecoveryCode<T extends StoredRecoveryCode>(input: string, stored: readonly T[]): T | null {
  const n = normalizeRecoveryCode(input);
  if (!n) return null;
  const h = hashToken(n);
  let found: T | null = null;
  for (const row of stored) {
    if (safeEqual(row.codeHash, h) && !row.usedAt && !found) found = row;
  }
  return found;
}
