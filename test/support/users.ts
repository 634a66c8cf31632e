import { randomUUID } from 'node:crypto';
import { Plan, Role, User } from '../../src/entities';
import type { TestServer } from './server';

export interface SignedInUser {
  id: string;
  email: string;
  role: Role;
  token: string;
}

let counter = 0;

/**
 * A verified account with `role` (and `plan`), signed in through the real accounts module: the token
 * is a real access token the server verifies. Quicker than the mail round trip of test/auth/helpers.
 */
export async function createSignedInUser(
  server: TestServer,
  opts: { role?: Role; plan?: Plan; email?: string } = {},
): Promise<SignedInUser> {
  const { registration, signIn } = server.services.auth;
  const email = opts.email ?? `user-${++counter}-${randomUUID().slice(0, 8)}@example.test`;
  const password = `Pw-${randomUUID()}`;
  const meta = { ip: `198.51.100.${(counter % 250) + 1}`, userAgent: 'jest' };
  const em = server.services.db.orm.em.fork();
  const created = await registration.register(em, { email, password }, meta);
  const user = await em.findOneOrFail(User, { id: created.id });
  user.emailVerifiedAt = new Date();
  user.role = opts.role ?? Role.CLINICIAN;
  user.plan = opts.plan ?? Plan.FREE;
  await em.flush();
  const result = await signIn.login(em.fork(), email, password, meta);
  if (!result.accessToken) throw new Error('sign-in gave no access token');
  return { id: user.id, email, role: user.role, token: result.accessToken };
}
