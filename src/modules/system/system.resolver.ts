import { Authorized, Ctx, FieldResolver, Query, Resolver, Root, Subscription } from 'type-graphql';
import { setTimeout as sleep } from 'node:timers/promises';
import { Role, User } from '../../entities';
import { Public } from '../../schema/access';
import { SystemStatus } from './system.types';
import { UserType } from '../accounts';
import type { AppContext } from '../../schema/context';
import { systemStatus } from './system-status';

@Resolver()
export class SystemResolver {
  @Public()
  @Query(() => UserType, { nullable: true, description: 'The signed-in user, or null without a valid access token' })
  async me(@Ctx() ctx: AppContext): Promise<User | null> {
    // Public, so not @CurrentUser() (which refuses anonymous callers): anonymous gets null.
    if (!ctx.user) return null;
    return ctx.em.findOne(User, { id: ctx.user.id });
  }

  @Authorized(Role.ADMIN)
  @Query(() => SystemStatus, {
    nullable: true,
    description:
      'Version, uptime and the state of PostgreSQL and Redis as this process sees them (admins only). Null, with FORBIDDEN or UNAUTHENTICATED in errors, for a caller it refuses (other root fields keep their data)',
  })
  systemStatus(@Ctx() ctx: AppContext): Promise<SystemStatus> {
    return systemStatus(ctx.services);
  }

  @Public()
  @Subscription(() => Date, {
    description: 'The server clock once a second: a liveness check for subscription transports',
    // A generator: a tick is made only when the client has taken the last one, so a stalled client
    // holds one pending tick, not a growing queue. The timer never keeps the process alive.
    subscribe: async function* serverTicks() {
      for (;;) {
        yield new Date();
        await sleep(1000, undefined, { ref: false });
      }
    },
  })
  serverTime(@Root() now: Date): Date {
    return now;
  }
}

@Resolver(() => UserType)
export class UserFieldsResolver {
  @FieldResolver(() => Boolean, {
    description: 'Whether the address was confirmed (verifyEmail); sign-in may require it (ALLOW_UNVERIFIED_LOGIN)',
  })
  emailVerified(@Root() user: User): boolean {
    return !!user.emailVerifiedAt;
  }
}
