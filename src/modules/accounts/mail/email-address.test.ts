import { normalizeEmail, parseEmail } from './email-address';

describe('email addresses', () => {
  it('normalise to trimmed lower-case NFKC', () => {
    expect(normalizeEmail('  Jane.Doe@Example.ORG ')).toBe('jane.doe@example.org');
    expect(normalizeEmail('ｊａｎｅ@example.org')).toBe('jane@example.org');
  });

  it('accept ordinary addresses and refuse malformed or oversized ones with a field and reason', () => {
    expect(parseEmail('Jane+derm@sub.example.org')).toBe('jane+derm@sub.example.org');
    for (const [bad, reason] of [
      ['jane', 'INVALID_EMAIL'],
      ['jane@localhost', 'INVALID_EMAIL'],
      ['ja ne@example.org', 'INVALID_EMAIL'],
      ['a@b@example.org', 'INVALID_EMAIL'],
      [`${'a'.repeat(65)}@example.org`, 'INVALID_EMAIL'],
      [`a@${'b'.repeat(260)}.org`, 'TOO_LONG'],
      ['x'.repeat(100_000), 'TOO_LONG'],
    ]) {
      expect(() => parseEmail(bad, 'email')).toThrow(
        expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'email', reason } }),
      );
    }
  });
});
