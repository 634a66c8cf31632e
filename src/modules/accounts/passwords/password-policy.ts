import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { badInput } from '../../../infra/errors';
import { projectRoot } from '../../../infra/paths';

/**
 * Password rules of OWASP ASVS 5 (V6.2): at least 8 characters, at least 64 allowed (we cap at 128
 * so a hash request cannot be made arbitrarily expensive), no composition rules, every printable
 * Unicode character and spaces allowed, checked against a list of common passwords.
 */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

export type PasswordProblem =
  | 'TOO_SHORT'
  | 'TOO_LONG'
  | 'COMMON'
  | 'SAME_AS_EMAIL'
  | 'CONTROL_CHARACTERS'
  | 'WHITESPACE_ONLY'
  | 'REPEATED_CHARACTER';

const MESSAGES: Record<PasswordProblem, string> = {
  TOO_SHORT: `Password must be at least ${PASSWORD_MIN_LENGTH} characters long`,
  TOO_LONG: `Password must be at most ${PASSWORD_MAX_LENGTH} characters long`,
  COMMON: 'This password is one of the most commonly used passwords; choose another',
  SAME_AS_EMAIL: 'Password must not be your email address',
  CONTROL_CHARACTERS: 'Password must not contain control characters',
  WHITESPACE_ONLY: 'Password must not be only spaces',
  REPEATED_CHARACTER: 'Password must not be one character repeated',
};

/** Words specific to this service that are as guessable as the common list. */
const CONTEXT_WORDS = ['dermagraph'];

/**
 * NFKC so that the same password typed on another keyboard or OS (full-width digits, composed vs
 * decomposed accents) hashes the same. Apply it before hashing and before verifying.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Length in Unicode code points (what a person counts), not UTF-16 units. */
export function passwordLength(password: string): number {
  return Array.from(password).length;
}

let commonPasswords: Set<string> | undefined;

/** Where the shipped list lives: beside this module in src/, or in the package's src/modules/accounts/passwords/ when run from dist/. */
function commonPasswordsFile(): string {
  const candidates = [
    path.join(__dirname, 'common-passwords.txt'),
    path.join(projectRoot, 'src', 'modules', 'accounts', 'passwords', 'common-passwords.txt'),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`common-passwords.txt not found (looked in ${candidates.join(', ')})`);
  return found;
}

/** The shipped list (see common-passwords.NOTICE.md), loaded once. Entries are lower-case. */
export function loadCommonPasswords(): Set<string> {
  if (!commonPasswords) {
    const lines = readFileSync(commonPasswordsFile(), 'utf8').split('\n');
    commonPasswords = new Set(lines.filter((l) => l.length > 0));
  }
  return commonPasswords;
}

export function isCommonPassword(password: string): boolean {
  const folded = normalizePassword(password).toLowerCase();
  return loadCommonPasswords().has(folded) || CONTEXT_WORDS.includes(folded);
}

/** Returns the first problem with the password, or null when it is acceptable. */
export function findPasswordProblem(password: string, context: { email?: string } = {}): PasswordProblem | null {
  const normalized = normalizePassword(password);
  const length = passwordLength(normalized);
  if (length < PASSWORD_MIN_LENGTH) return 'TOO_SHORT';
  if (length > PASSWORD_MAX_LENGTH) return 'TOO_LONG';
  // Tabs, newlines and NUL are never typed on purpose and break some password managers' autofill.
  if (/\p{Cc}/u.test(normalized)) return 'CONTROL_CHARACTERS';
  // The first guesses of any cracker, and not in the common list at every length.
  if (/^\p{White_Space}+$/u.test(normalized)) return 'WHITESPACE_ONLY';
  if (new Set(normalized.toLowerCase()).size === 1) return 'REPEATED_CHARACTER';
  if (isCommonPassword(normalized)) return 'COMMON';
  if (context.email) {
    const folded = normalized.trim().toLowerCase();
    const email = context.email.trim().toLowerCase();
    if (folded === email || folded === email.split('@')[0]) return 'SAME_AS_EMAIL';
  }
  return null;
}

/**
 * Throws BAD_USER_INPUT (with `field` and `reason`) when the password breaks the policy;
 * returns the normalised password to hash.
 */
export function assertAcceptablePassword(
  password: string,
  context: { email?: string } = {},
  field = 'password',
): string {
  const problem = findPasswordProblem(password, context);
  if (problem) throw badInput(field, MESSAGES[problem], { reason: problem });
  return normalizePassword(password);
}
