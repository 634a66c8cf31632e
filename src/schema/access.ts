import type { AuthChecker } from 'type-graphql';
import type { AppContext } from './context';
import { AppError } from '../infra/errors';

/**
 * Every Query, Mutation and Subscription decides who may call it: `@Authorized(...roles)` from
 * type-graphql, or `@Public()` from here. A test walks the schema and fails on an operation
 * that has neither.
 */
const publicFields = new Set<string>();

export function Public(): MethodDecorator {
  return (target, key) => {
    publicFields.add(`${(target as { constructor: { name: string } }).constructor.name}.${String(key)}`);
  };
}

export function isPublic(resolverClassName: string, methodName: string): boolean {
  return publicFields.has(`${resolverClassName}.${methodName}`);
}

/** `@Authorized()` = any signed-in user; `@Authorized(Role.ADMIN, ...)` = one of these roles. */
export const authChecker: AuthChecker<AppContext> = ({ context }, roles) => {
  const user = context.user;
  if (!user) throw new AppError('UNAUTHENTICATED', 'Sign in first');
  if (roles.length === 0 || roles.includes(user.role)) return true;
  throw new AppError('FORBIDDEN', 'Your role does not allow this');
};
