import {
  assertAcceptablePassword,
  findPasswordProblem,
  isCommonPassword,
  loadCommonPasswords,
  normalizePassword,
  PASSWORD_MAX_LENGTH,
} from './password-policy';
import { AppError } from '../../../infra/errors';

describe('password policy (ASVS 5)', () => {
  it('ships a real common-password list of tens of thousands of entries, most common first', () => {
    const list = loadCommonPasswords();
    expect(list.size).toBeGreaterThan(40_000);
    expect([...list].slice(0, 3)).toEqual(['123456', 'password', '12345678']);
  });

  it('rejects passwords shorter than 8 code points and accepts 8', () => {
    expect(findPasswordProblem('Zq7!xp2')).toBe('TOO_SHORT');
    expect(findPasswordProblem('Zq7!xp2w')).toBeNull();
    // 8 emoji are 16 UTF-16 units but 8 characters: counted as 8.
    expect(findPasswordProblem('🦊🦊🦊🦊🦊🦊🦊')).toBe('TOO_SHORT');
    expect(findPasswordProblem('🦊🦊🦊🦊🦊🦊🦊🐻')).toBeNull();
  });

  it('allows at least 64 characters and caps at 128', () => {
    const long64 = 'correct horse battery staple '.repeat(3).slice(0, 64);
    expect(findPasswordProblem(long64)).toBeNull();
    expect(findPasswordProblem('x9'.repeat(64))).toBeNull(); // 128
    expect(findPasswordProblem('x9'.repeat(64) + 'y')).toBe('TOO_LONG');
    expect(PASSWORD_MAX_LENGTH).toBeGreaterThanOrEqual(64);
  });

  it('has no composition rules: all lower-case letters and spaces are fine', () => {
    expect(findPasswordProblem('purple monkey dishwasher')).toBeNull();
  });

  it('rejects common passwords whatever their case, and the service name', () => {
    expect(findPasswordProblem('password')).toBe('COMMON');
    expect(findPasswordProblem('PassWord1')).toBe('COMMON');
    expect(findPasswordProblem('12345678')).toBe('COMMON');
    expect(findPasswordProblem('iloveyou')).toBe('COMMON');
    expect(findPasswordProblem('Dermagraph')).toBe('COMMON');
    expect(isCommonPassword('unusual-lichen-87')).toBe(false);
  });

  it('normalises NFKC: full-width digits match the common list', () => {
    // "１２３４５６７８" (full-width) is "12345678" after NFKC.
    expect(normalizePassword('１２３４５６７８')).toBe('12345678');
    expect(findPasswordProblem('１２３４５６７８')).toBe('COMMON');
    // Composed and decomposed é give the same string to hash.
    expect(normalizePassword('caf\u0065\u0301-au-lait')).toBe(normalizePassword('caf\u00e9-au-lait'));
  });

  it('rejects the email address or its local part as password', () => {
    expect(findPasswordProblem('Jane.Doe@Example.org', { email: 'jane.doe@example.org' })).toBe('SAME_AS_EMAIL');
    expect(findPasswordProblem('jane.doe.skin', { email: 'jane.doe.skin@example.org' })).toBe('SAME_AS_EMAIL');
    expect(findPasswordProblem('jane.doe.skin!', { email: 'jane.doe.skin@example.org' })).toBeNull();
  });

  it('rejects control characters', () => {
    expect(findPasswordProblem('abc\u0000defghij')).toBe('CONTROL_CHARACTERS');
  });

  // Issue [7]: `aaaaaaaa` and eight spaces passed the policy.
  it('rejects one character repeated, whatever its case or length', () => {
    expect(findPasswordProblem('aaaaaaaa')).toBe('REPEATED_CHARACTER');
    expect(findPasswordProblem('aAaAaAaAaAaA')).toBe('REPEATED_CHARACTER');
    expect(findPasswordProblem('🦊🦊🦊🦊🦊🦊🦊🦊')).toBe('REPEATED_CHARACTER');
    expect(findPasswordProblem('ｚｚｚｚｚｚｚｚｚ')).toBe('REPEATED_CHARACTER'); // full-width, NFKC first
    expect(findPasswordProblem('aaaaaaab')).toBeNull();
  });

  it('rejects passwords made only of spaces (any kind of space)', () => {
    expect(findPasswordProblem('        ')).toBe('WHITESPACE_ONLY');
    expect(findPasswordProblem(' \u00a0 \u3000 \u2003  ')).toBe('WHITESPACE_ONLY');
    expect(findPasswordProblem('   x    ')).toBeNull();
    expect(() => assertAcceptablePassword('        ', {}, 'newPassword')).toThrow(
      expect.objectContaining({
        extensions: expect.objectContaining({
          code: 'BAD_USER_INPUT',
          field: 'newPassword',
          reason: 'WHITESPACE_ONLY',
        }),
      }),
    );
  });

  it('throws BAD_USER_INPUT with the field and reason, and returns the normalised password', () => {
    expect(assertAcceptablePassword('ｕｎｕｓｕａｌ lichen')).toBe('unusual lichen');
    try {
      assertAcceptablePassword('short', {}, 'newPassword');
      throw new Error('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(AppError);
      expect((e as AppError).extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'newPassword',
        reason: 'TOO_SHORT',
      });
    }
  });
});
