import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { AuditLog, User } from '../../entities';
import type { AppContext } from '../../schema/context';
import type { NodeSource } from '../../schema/node';
import { AuditLogEntryType } from '../audit';
import { readableUser, userById } from './user.loaders';
import { UserType } from './user.types';

/** `node(id)` for accounts: admins read any, anyone else only their own (as `users` and `me`). */
export const accountNodes: NodeSource[] = [{ type: 'User', table: 'users', load: readableUser }];

/** The accounts an audit entry names (the log is for admins, who may read every account). */
@Resolver(() => AuditLogEntryType)
export class AuditLogUsersResolver {
  @FieldResolver(() => UserType, {
    nullable: true,
    description: 'The account concerned (`userId`); null when there is none or it was deleted',
  })
  user(@Root() e: AuditLog, @Ctx() ctx: AppContext): Promise<User | null> | null {
    return e.userId ? userById(ctx).load(e.userId) : null;
  }

  @FieldResolver(() => UserType, {
    nullable: true,
    description: 'The admin who acted (`actorId`), when not the user; null otherwise or when deleted',
  })
  actor(@Root() e: AuditLog, @Ctx() ctx: AppContext): Promise<User | null> | null {
    return e.actorId ? userById(ctx).load(e.actorId) : null;
  }
}
