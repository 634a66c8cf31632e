import { badInput, type AppError } from '../../infra/errors';
import { PASSWORD_MAX_LENGTH } from './passwords/password-policy';

/** Long strings are refused before any hashing work (argon2 on a megabyte, SHA-256 on a gigabyte). */
export const MAX_PASSWORD_INPUT = PASSWORD_MAX_LENGTH * 4;
export const MAX_CODE_INPUT = 64;
export const MAX_TOKEN_INPUT = 512;
export const MAX_NAME_LENGTH = 200;

export function tooLong(field: string, max: number): AppError {
  return badInput(field, `${field} must be at most ${max} characters`, { reason: 'TOO_LONG' });
}

/** `value` when it is a string of at most `max` characters; BAD_USER_INPUT (TOO_LONG) on `field` otherwise. */
export function limitLength(value: string, field: string, max: number): string {
  if (typeof value !== 'string' || value.length > max) throw tooLong(field, max);
  return value;
}
