import { badInput } from '../../../infra/errors';

/** RFC 5321 path limit. */
export const EMAIL_MAX_LENGTH = 254;

/** The one form an address is stored and compared in: NFKC, trimmed, lower-cased. */
export function normalizeEmail(email: string): string {
  return email.normalize('NFKC').trim().toLowerCase();
}

/**
 * Normalises and checks the shape (one @, a dot in the domain, no spaces or control characters).
 * Deliverability is proven by the verification mail, not by a regex.
 */
export function parseEmail(email: string, field = 'email'): string {
  const tooLong = () => badInput(field, `Email must be at most ${EMAIL_MAX_LENGTH} characters`, { reason: 'TOO_LONG' });
  if (typeof email !== 'string' || email.length > EMAIL_MAX_LENGTH * 2) throw tooLong();
  const n = normalizeEmail(email);
  if (n.length > EMAIL_MAX_LENGTH) throw tooLong();
  if (!/^[^\s@\p{Cc}]{1,64}@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]+$/u.test(n))
    throw badInput(field, 'Enter a valid email address', { reason: 'INVALID_EMAIL' });
  return n;
}
