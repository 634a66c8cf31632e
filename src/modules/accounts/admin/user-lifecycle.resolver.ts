import { Arg, Authorized, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { Plan, Role, type User } from '../../../entities';
import { unauthenticated } from '../../../infra/errors';
import type { AppContext } from '../../../schema/context';
import { Audited, AuditAction, NOTHING_CHANGED } from '../../audit';
import { UserType } from '../user.types';
import { DeletionOutcome, InviteUserInput, UserDeletionType } from './admin.types';
import type { DeletionResult } from './account-deletion';
import { aboutUser } from './admin.resolver';
import { invitationPending, type SentLink } from './invitations';

const auth = (ctx: AppContext) => ctx.services.auth;
const find = (ctx: AppContext, userId: string) => auth(ctx).userAdmin.find(ctx.em, userId);

/**
 * The admin console's account lifecycle ([13]): invitations, plan and name, a reset link an admin
 * has mailed, deletion. Each change is audited by `@Audited` with details.before and details.after
 * (refusals too, with the error's code); a call that changes nothing writes no row.
 */
@Resolver()
export class UserLifecycleResolver {
  @Authorized(Role.ADMIN)
  @Audited<{ input: InviteUserInput }, User>(AuditAction.USER_INVITED, {
    userId: (_args, user) => user?.id,
    outcome: (user) => ({ after: { email: user.email, name: user.name ?? null, role: user.role, plan: user.plan } }),
  })
  @Mutation(() => UserType, {
    description:
      'Creates an account and mails its owner a single-use link (INVITATION_TTL_HOURS) to choose a password, which also confirms the address. CONFLICT (EMAIL_TAKEN) when the address has an account',
  })
  inviteUser(
    @Arg('input', () => InviteUserInput, { description: 'Who to invite' }) input: InviteUserInput,
    @Ctx() ctx: AppContext,
  ): Promise<User> {
    return auth(ctx).invitations.invite(ctx.em, input);
  }

  @Authorized(Role.ADMIN)
  @Audited<{ userId: string; plan: Plan }, User, { plan: Plan }>(AuditAction.PLAN_CHANGED, {
    userId: aboutUser,
    before: async ({ userId }, ctx) => ({ plan: (await find(ctx, userId)).plan }),
    outcome: (user, _args, before) =>
      before.plan === user.plan ? NOTHING_CHANGED : { before, after: { plan: user.plan } },
  })
  @Mutation(() => UserType, { description: 'Changes the account’s plan; its monthly quotas follow at once' })
  setUserPlan(
    @Arg('userId', () => ID, { description: 'The account to change' }) userId: string,
    @Arg('plan', () => Plan, { description: 'The new plan' }) plan: Plan,
    @Ctx() ctx: AppContext,
  ): Promise<User> {
    return auth(ctx).userAdmin.setPlan(ctx.em, userId, plan);
  }

  @Authorized(Role.ADMIN)
  @Audited<{ userId: string; name: string | null }, User, { name: string | null }>(AuditAction.NAME_CHANGED, {
    userId: aboutUser,
    before: async ({ userId }, ctx) => ({ name: (await find(ctx, userId)).name ?? null }),
    outcome: (user, _args, before) =>
      before.name === (user.name ?? null) ? NOTHING_CHANGED : { before, after: { name: user.name ?? null } },
  })
  @Mutation(() => UserType, { description: 'Changes the account’s display name' })
  setUserName(
    @Arg('userId', () => ID, { description: 'The account to change' }) userId: string,
    @Arg('name', () => String, {
      nullable: true,
      description: 'Trimmed, at most 200 characters, no control characters; null or blank clears it',
    })
    name: string | null,
    @Ctx() ctx: AppContext,
  ): Promise<User> {
    return auth(ctx).userAdmin.setName(ctx.em, userId, name);
  }

  @Authorized(Role.ADMIN)
  @Audited<{ userId: string; signOut: boolean }, User, { link: SentLink }>(AuditAction.PASSWORD_RESET_SENT, {
    userId: aboutUser,
    details: ({ signOut }) => ({ signOut }),
    // Which link goes out is known before: an invitation while one is pending, else a reset link.
    before: async ({ userId }, ctx) => ({ link: invitationPending(await find(ctx, userId)) ? 'INVITATION' : 'RESET' }),
    outcome: (_user, _args, { link }) => ({ link }),
  })
  @Mutation(() => UserType, {
    description:
      'Mails the account a single-use link to choose a new password (PASSWORD_RESET_TTL_MINUTES), or a new invitation while one is pending; older unused links stop working. CONFLICT (USER_DISABLED) for a disabled account',
  })
  sendUserPasswordReset(
    @Arg('userId', () => ID, { description: 'The account' }) userId: string,
    @Arg('signOut', () => Boolean, {
      defaultValue: false,
      description: 'true: every session of the account ends now (its password may be known to someone else)',
    })
    signOut: boolean,
    @Ctx() ctx: AppContext,
  ): Promise<User> {
    return auth(ctx)
      .invitations.sendReset(ctx.em, userId, signOut)
      .then((r) => r.user);
  }

  @Authorized(Role.ADMIN)
  @Audited<{ userId: string; successorId: string | null }, UserDeletionType>(AuditAction.USER_DELETED, {
    userId: ({ userId }) => aboutUser({ userId }),
    details: ({ successorId }) => ({ successorId: successorId ?? null }),
    outcome: (r) => {
      const full = r as UserDeletionType & Pick<DeletionResult, 'before'>;
      return {
        outcome: r.outcome,
        before: full.before,
        after: { patientsTransferred: r.patientsTransferred, patientsArchived: r.patientsArchived },
      };
    },
  })
  @Mutation(() => UserDeletionType, {
    description:
      'Deletes an account for good: its sessions end at once; its patients go to successorId (ACCOUNT_DELETION_PATIENTS=transfer; required when it owns any) or are archived (archive). The row is removed when nothing points at it, else kept anonymised (see DeletionOutcome). Not yourself, not the last admin',
  })
  async deleteUser(
    @Arg('userId', () => ID, { description: 'The account to delete' }) userId: string,
    @Arg('successorId', () => ID, {
      nullable: true,
      description: 'transfer mode: an enabled CLINICIAN or ADMIN who becomes the owner of its patients',
    })
    successorId: string | null,
    @Ctx() ctx: AppContext,
  ): Promise<UserDeletionType & Pick<DeletionResult, 'before'>> {
    if (!ctx.user) throw unauthenticated();
    const r = await auth(ctx).accountDeletion.delete(ctx.em, ctx.user.id, userId, successorId ?? null);
    return { ...r, outcome: DeletionOutcome[r.outcome] };
  }
}
