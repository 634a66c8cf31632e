import { createParameterDecorator } from 'type-graphql';
import { unauthenticated } from '../infra/errors';
import type { AppContext, AuthUser } from './context';

/**
 * The signed-in caller, as a resolver parameter: `me(@CurrentUser() user: AuthUser)`. Use it on
 * `@Authorized` operations (the auth checker has already refused anonymous calls) and on field
 * resolvers of types only a signed-in caller can reach; anonymous use throws UNAUTHENTICATED.
 */
export function CurrentUser() {
  return createParameterDecorator<AppContext>(({ context }): AuthUser => {
    if (!context.user) throw unauthenticated();
    return context.user;
  });
}
