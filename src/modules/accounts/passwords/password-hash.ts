import { type Algorithm, hash, parseOptions, verify } from '@node-rs/argon2';
import { normalizePassword } from './password-policy';

/** OWASP's argon2id parameters: 19 MiB, 2 passes, 1 lane. Output is a PHC string ($argon2id$v=19$m=...). */
export const ARGON2_PARAMS = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;
// Algorithm is a `const enum` in the package's typings; swc does not inline those, so use its value.
const ARGON2ID = 2 as Algorithm;

export async function hashPassword(password: string): Promise<string> {
  return hash(normalizePassword(password), { ...ARGON2_PARAMS, algorithm: ARGON2ID });
}

/**
 * A real hash of a random password, computed once. Verifying against it when the email is unknown
 * makes a bad email cost the same argon2 work as a bad password, so timing does not reveal accounts.
 */
let dummyHash: Promise<string> | undefined;
export function getDummyHash(): Promise<string> {
  dummyHash ??= hashPassword(`dummy-${Math.random()}-${Date.now()}`);
  return dummyHash;
}

/** Verifies `password` against a PHC string; a malformed hash counts as a mismatch, never a throw. */
export async function verifyPassword(phc: string, password: string): Promise<boolean> {
  try {
    return await verify(phc, normalizePassword(password));
  } catch {
    return false;
  }
}

/**
 * Verifies against `phc`, or against the dummy hash when there is no account, so both paths do
 * one argon2 verification. Always false without an account.
 */
export async function verifyPasswordOrDummy(phc: string | null | undefined, password: string): Promise<boolean> {
  if (phc) return verifyPassword(phc, password);
  await verifyPassword(await getDummyHash(), password);
  return false;
}

/** True when the stored hash was made with other parameters than today's: rehash after a good sign-in. */
export function needsRehash(phc: string): boolean {
  try {
    const o = parseOptions(phc);
    return (
      !phc.startsWith('$argon2id$') ||
      o.memoryCost !== ARGON2_PARAMS.memoryCost ||
      o.timeCost !== ARGON2_PARAMS.timeCost ||
      o.parallelism !== ARGON2_PARAMS.parallelism
    );
  } catch {
    return true;
  }
}
