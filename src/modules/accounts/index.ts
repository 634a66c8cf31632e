import type { AccountsModule } from './accounts.module';
import { UserAdminResolver, UserSecurityFieldsResolver } from './admin/admin.resolver';
import { UserAdminFieldsResolver } from './admin/user-fields.resolver';
import { UserLifecycleResolver } from './admin/user-lifecycle.resolver';
import { PasswordsResolver } from './passwords/passwords.resolver';
import { RegistrationResolver } from './registration/registration.resolver';
import { SessionsResolver } from './sessions/sessions.resolver';
import { TwoFactorResolver } from './two-factor/two-factor.resolver';
import { AuditLogUsersResolver } from './user-navigation.resolver';

/** The accounts module's public API (docs/auth.md). Other modules import it from here only. */
export { createAccountsModule, type AccountsModule, type AccountsModuleOptions } from './accounts.module';
export type { AuthResult } from './sessions/session-issuer';
export type { RoleChangedEvent, SessionsRevokedEvent } from './sessions/account-events';
export { bridgeRoleChanges, bridgeSessionRevocations } from './sessions/session-events';
export { jwksRouter } from './tokens/jwks.router';
export { accountPagesRouter } from './pages/account-pages.router';
export { rotateKeys } from './tokens/jwt';
export { acceptableAdminInput } from './admin/user-admin';
export { SecretBox } from './two-factor/secret-box';
export { UserType } from './user.types';
export { userById, readableUser } from './user.loaders';
export { accountNodes } from './user-navigation.resolver';

/** The accounts resolvers, for the schema (src/resolvers). */
export const accountsResolvers = [
  RegistrationResolver,
  SessionsResolver,
  PasswordsResolver,
  TwoFactorResolver,
  UserAdminResolver,
  UserSecurityFieldsResolver,
  UserLifecycleResolver,
  UserAdminFieldsResolver,
  AuditLogUsersResolver,
] as const;

declare module '../../schema/context' {
  interface Services {
    /** Accounts: one object per use case (registration, sign-in, sessions, passwords, two-factor, user admin), and the limits. */
    auth: AccountsModule;
  }
}
