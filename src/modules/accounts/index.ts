import type { AuthModule } from './setup';

export type { AuthModule } from './setup';

declare module '../../schema/context' {
  interface Services {
    /** Accounts: the auth service, its rate limiter and counters. */
    auth: AuthModule;
  }
}
