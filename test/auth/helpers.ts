import { execFileSync } from 'node:child_process';
import type { TestServer } from '../support/server';

export interface GqlError {
  message: string;
  extensions?: Record<string, unknown> & { code?: string; reason?: string; field?: string; retryAfterSeconds?: number };
}
export interface GqlResponse<T> {
  status: number;
  data?: T | null;
  errors?: GqlError[];
}

/** POSTs an operation as a client at `ip` would (the server trusts X-Forwarded-For from loopback). */
export async function gql<T = Record<string, any>>(
  server: TestServer,
  query: string,
  variables: Record<string, unknown> = {},
  opts: { token?: string; authorization?: string; ip?: string } = {},
): Promise<GqlResponse<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'dermagraph-auth-test' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.authorization) headers.authorization = opts.authorization;
  if (opts.ip) headers['x-forwarded-for'] = opts.ip;
  const res = await fetch(server.url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return { ...((await res.json()) as object), status: res.status };
}

/** The one error of a response (fails the test when there is none). */
export function onlyError(res: GqlResponse<unknown>): GqlError {
  if (!res.errors?.length) throw new Error(`expected an error, got ${JSON.stringify(res.data)}`);
  return res.errors[0];
}

/** A TOTP code from oathtool (an implementation other than the server's), `offsetSteps` from now. */
export function oathtoolCode(secret: string, offsetSteps = 0): string {
  const at = Math.floor(Date.now() / 1000) + offsetSteps * 30;
  return execFileSync('oathtool', ['--totp', '--base32', secret, '-N', `@${at}`], { encoding: 'utf8' }).trim();
}

export const AUTH_PAYLOAD =
  'twoFactorRequired challengeToken accessToken accessTokenExpiresAt refreshToken user { id email role emailVerified }';

export const M = {
  register: `mutation($input: RegisterInput!) { register(input: $input) { id email role emailVerified } }`,
  verifyEmail: `mutation($token: String!) { verifyEmail(token: $token) { id email emailVerified } }`,
  resend: `mutation($email: String!) { resendVerificationEmail(email: $email) }`,
  login: `mutation($email: String!, $password: String!) { login(email: $email, password: $password) { ${AUTH_PAYLOAD} } }`,
  verifyTwoFactor: `mutation($challengeToken: String!, $code: String!) { verifyTwoFactor(challengeToken: $challengeToken, code: $code) { ${AUTH_PAYLOAD} } }`,
  refresh: `mutation($refreshToken: String!) { refreshSession(refreshToken: $refreshToken) { ${AUTH_PAYLOAD} } }`,
  logout: `mutation($refreshToken: String!) { logout(refreshToken: $refreshToken) }`,
  logoutAll: `mutation { logoutAllSessions }`,
  requestReset: `mutation($email: String!) { requestPasswordReset(email: $email) }`,
  resetPassword: `mutation($token: String!, $newPassword: String!) { resetPassword(token: $token, newPassword: $newPassword) }`,
  changePassword: `mutation($currentPassword: String!, $newPassword: String!) { changePassword(currentPassword: $currentPassword, newPassword: $newPassword) }`,
  begin2fa: `mutation { beginTwoFactorEnrollment { secret otpauthUrl qrCodeDataUrl } }`,
  confirm2fa: `mutation($code: String!) { confirmTwoFactorEnrollment(code: $code) }`,
  disable2fa: `mutation($password: String!, $code: String!) { disableTwoFactor(password: $password, code: $code) }`,
  regenerate: `mutation($code: String!) { regenerateRecoveryCodes(code: $code) }`,
  setUserDisabled: `mutation($userId: ID!, $disabled: Boolean!) { setUserDisabled(userId: $userId, disabled: $disabled) { id } }`,
  setUserRole: `mutation($userId: ID!, $role: Role!) { setUserRole(userId: $userId, role: $role) { id role } }`,
  me: `query { me { id email role } }`,
};

/** Registers through GraphQL, reads the verification mail and follows it: a ready, verified account. */
export async function createVerifiedUser(
  server: TestServer,
  smtp: { waitFor(to: string, after?: number): Promise<{ text: string }>; messages: unknown[] },
  email: string,
  password: string,
  ip = '192.0.2.200',
): Promise<string> {
  const before = smtp.messages.length;
  const res = await gql(server, M.register, { input: { email, password } }, { ip });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  const mail = await smtp.waitFor(email.toLowerCase(), before);
  const token = /token=([A-Za-z0-9_-]+)/.exec(mail.text)![1];
  const v = await gql(server, M.verifyEmail, { token }, { ip });
  if (v.errors) throw new Error(JSON.stringify(v.errors));
  return res.data!.register.id as string;
}

/**
 * A scheduler for the server's background work (AuthModuleOptions.scheduleBackground) that can hold
 * tasks: while held, an answer that came back shows it did not wait for that work.
 */
export function holdableScheduler() {
  let holding = false;
  const queued: Array<() => void> = [];
  return {
    schedule: (start: () => void) => void (holding ? queued.push(start) : setImmediate(start)),
    hold() {
      holding = true;
    },
    /** Starts what was held and stops holding; returns how many tasks had been held. */
    release(): number {
      holding = false;
      const n = queued.length;
      for (const start of queued.splice(0)) setImmediate(start);
      return n;
    },
    get held(): number {
      return queued.length;
    },
  };
}
