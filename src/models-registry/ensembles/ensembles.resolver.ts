import { Arg, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { Role } from '../../entities';
import type { AppContext, AuthUser } from '../../schema/context';
import { CurrentUser } from '../../schema/current-user';
import { AuditAction, Audited } from '../../modules/audit';
import {
  defaultEnsembleName,
  EnsembleAdmin,
  findEnsemble,
  listEnsembles,
  type EnsembleDefinition,
} from './ensembles.service';
import { ClassificationEnsembleMemberInput, ClassificationEnsembleType } from './ensembles.types';

type ChangeArgs = { name: string; members: ClassificationEnsembleMemberInput[]; description?: string | null };

const admin = (ctx: AppContext) => new EnsembleAdmin({ registry: ctx.services.models, config: ctx.services.config });

/** The members as an audit row records them: `model@version*weight` (version `active` when not pinned). */
const memberList = (ms: ReadonlyArray<{ model: string; version?: string | null; weight?: number | null }>) =>
  Array.isArray(ms) ? ms.map((m) => `${m.model}@${m.version ?? 'active'}*${m.weight ?? 1}`) : [];
const asked = (a: ChangeArgs) => ({ name: a.name, members: memberList(a.members) });
const before = async (a: { name: string }, ctx: AppContext) => {
  const e = await findEnsemble(ctx.em, a.name);
  return e ? memberList(e.members) : null;
};

function toEnsemble(e: EnsembleDefinition, ctx: AppContext): ClassificationEnsembleType {
  const total = e.members.reduce((s, m) => s + m.weight, 0);
  return {
    name: e.name,
    description: e.description,
    members: e.members.map((m) => ({ ...m, normalisedWeight: m.weight / total })),
    isDefault: e.name === defaultEnsembleName(ctx.services.config),
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
    updatedBy: e.updatedBy,
  };
}

const MEMBERS_DESCRIPTION =
  '1 to 8 classification models sharing one label list, each at most once per version, weights above 0';

/** Named classification ensembles: read by every signed-in user, changed by admins (audited, success or not). */
@Resolver()
export class EnsemblesResolver {
  @Authorized()
  @Query(() => [ClassificationEnsembleType], {
    nullable: true,
    description: 'Every named classification ensemble, by name (null, with the error, for a caller not signed in)',
  })
  async classificationEnsembles(@Ctx() ctx: AppContext): Promise<ClassificationEnsembleType[]> {
    return (await listEnsembles(ctx.em)).map((e) => toEnsemble(e, ctx));
  }

  @Authorized()
  @Query(() => ClassificationEnsembleType, {
    nullable: true,
    description: 'One named classification ensemble; null when none has that name',
  })
  async classificationEnsemble(
    @Arg('name', () => String, { description: 'ClassificationEnsemble.name, exactly' }) name: string,
    @Ctx() ctx: AppContext,
  ): Promise<ClassificationEnsembleType | null> {
    const e = await findEnsemble(ctx.em, name);
    return e ? toEnsemble(e, ctx) : null;
  }

  @Authorized(Role.ADMIN)
  @Audited<ChangeArgs, ClassificationEnsembleType>(AuditAction.ENSEMBLE_CREATED, { details: asked })
  @Mutation(() => ClassificationEnsembleType, {
    description:
      'Creates a named classification ensemble, checked against the registry (CONFLICT when the name is taken)',
  })
  async createClassificationEnsemble(
    @Arg('name', () => String, { description: '[a-z0-9][a-z0-9-]{2,63}, neither a model’s nor another ensemble’s' })
    name: string,
    @Arg('members', () => [ClassificationEnsembleMemberInput], { description: MEMBERS_DESCRIPTION })
    members: ClassificationEnsembleMemberInput[],
    @Arg('description', () => String, { nullable: true, description: 'What it is for (at most 500 characters)' })
    description: string | null,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<ClassificationEnsembleType> {
    return toEnsemble(await admin(ctx).create(ctx.em, name, { members, description }, user.id), ctx);
  }

  @Authorized(Role.ADMIN)
  @Audited<ChangeArgs, ClassificationEnsembleType, string[] | null>(AuditAction.ENSEMBLE_UPDATED, {
    details: asked,
    before,
    outcome: (e, _a, b) => ({ before: b, after: memberList(e.members) }),
  })
  @Mutation(() => ClassificationEnsembleType, {
    description:
      'Replaces the members (weights included) of a named ensemble; jobs queued before keep the members they were queued with',
  })
  async updateClassificationEnsemble(
    @Arg('name', () => String, { description: 'ClassificationEnsemble.name (NOT_FOUND when none has it)' })
    name: string,
    @Arg('members', () => [ClassificationEnsembleMemberInput], { description: MEMBERS_DESCRIPTION })
    members: ClassificationEnsembleMemberInput[],
    @Arg('description', () => String, {
      nullable: true,
      description: 'A new description (at most 500 characters); left as it is when not given',
    })
    description: string | null | undefined,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<ClassificationEnsembleType> {
    return toEnsemble(await admin(ctx).update(ctx.em, name, { members, description }, user.id), ctx);
  }

  @Authorized(Role.ADMIN)
  @Audited<{ name: string }, ClassificationEnsembleType>(AuditAction.ENSEMBLE_DELETED, {
    details: (a) => ({ name: a.name }),
    outcome: (e) => ({ members: memberList(e.members) }),
  })
  @Mutation(() => ClassificationEnsembleType, {
    description:
      'Deletes a named ensemble and answers it as it was; never the default classifier (CONFLICT, reason DEFAULT_CLASSIFIER)',
  })
  async deleteClassificationEnsemble(
    @Arg('name', () => String, { description: 'ClassificationEnsemble.name (NOT_FOUND when none has it)' })
    name: string,
    @Ctx() ctx: AppContext,
  ): Promise<ClassificationEnsembleType> {
    return toEnsemble(await admin(ctx).remove(ctx.em, name), ctx);
  }
}
