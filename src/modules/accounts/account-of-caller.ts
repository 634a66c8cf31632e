import type { EntityManager } from '@mikro-orm/postgresql';
import { User } from '../../entities';
import { unauthenticated } from '../../infra/errors';

/** The signed-in caller's account; UNAUTHENTICATED (USER_NOT_FOUND) when it no longer exists. */
export async function accountOfCaller(em: EntityManager, id: string): Promise<User> {
  const user = await em.findOne(User, { id });
  if (!user) throw unauthenticated('Sign in first', { reason: 'USER_NOT_FOUND' });
  return user;
}
