import { Authorized, Ctx, FieldResolver, Query, Resolver, Root, Subscription } from 'type-graphql';
import { Repeater } from '@graphql-yoga/subscription';
import { Role, User } from '../entities';
import { Public } from '../schema/access';
import { SystemStatus } from '../schema/types/system';
import { UserType } from '../schema/types/user';
import type { AppContext } from '../server/context';
import { systemStatus } from '../server/system-status';

@Resolver()
export class SystemResolver {
  @Public()
  @Query(() => UserType, { nullable: true, description: 'The signed-in user, or null without a valid access token' })
  async me(@Ctx() ctx: AppContext): Promise<User | null> {
    if (!ctx.user) return null;
    return ctx.em.findOne(User, { id: ctx.user.id });
  }

  @Authorized(Role.ADMIN)
  @Query(() => SystemStatus, { description: 'Version, uptime and the state of PostgreSQL and Redis as this process sees them' })
  systemStatus(@Ctx() ctx: AppContext): Promise<SystemStatus> {
    return systemStatus(ctx.services);
  }

  @Public()
  @Subscription(() => Date, {
    description: 'The server clock once a second: a liveness check for subscription transports',
    subscribe: () =>
      new Repeater<Date>(async (push, stop) => {
        push(new Date());
        const timer = setInterval(() => push(new Date()), 1000);
        await stop;
        clearInterval(timer);
      }),
  })
  serverTime(@Root() now: Date): Date {
    return now;
  }
}

@Resolver(() => UserType)
export class UserFieldsResolver {
  @FieldResolver(() => Boolean)
  emailVerified(@Root() user: User): boolean {
    return !!user.emailVerifiedAt;
  }
}
