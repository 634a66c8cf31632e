/** The password policy in words (docs/auth.md; the server checks it and says what is wrong). */
export const PASSWORD_HINT =
  '8 to 128 characters; spaces are allowed. Not a commonly used password and not your email address.';

/** The `token` of a mailed link (?token=...), or '' when the address lost it. */
export function tokenFromSearch(search: string): string {
  return new URLSearchParams(search).get('token') ?? '';
}
