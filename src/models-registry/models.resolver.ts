import { Arg, Authorized, Ctx, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import GraphQLUpload from 'graphql-upload/GraphQLUpload.mjs';
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import { Role } from '../entities';
import { uploadError } from '../infra/http/uploads';
import type { AppContext, AuthUser } from '../schema/context';
import { CurrentUser } from '../schema/current-user';
import { AuditAction, Audited } from '../modules/audit';
import type { ModelInfo, ModelVersionInfo } from './catalogue/catalogue';
import { installUpload } from './lifecycle/upload';
import { refuseEnsembleName } from './ensembles/ensembles.service';
import {
  type ModelDeviceType,
  ModelRegistryEventObject,
  type ModelRegistryEventType,
  ModelType,
  type ModelVersionStatus,
  ModelVersionType,
  modelId,
  modelVersionId,
} from './models.types';
import { MODEL_REGISTRY_EVENTS, type RegistryEventMessage } from './setup';
import type { DeviceInfo } from './sync/store';
import { DeviceInput, deviceLabel, deviceText, toDeviceType } from './enums.types';

/** Where a version runs, as GraphQL shows it. */
const toModelDevice = (d: DeviceInfo | null | undefined): ModelDeviceType | null =>
  d ? { requested: toDeviceType(d.requested), actual: toDeviceType(d.actual), fallbackReason: d.fallbackReason } : null;

/** What an audit row of a change to one version records of its result. */
const versionOutcome = (v: ModelVersionType) => ({
  name: v.name,
  version: v.version,
  status: v.status,
  device: v.device ? deviceLabel(v.device.actual) : null,
});
const nameAndVersion = (a: { name: string; version: string }) => ({ name: a.name, version: a.version });

/** A model as a change finds it: the active version, and the named (default: active) version's status and device. */
type ModelBefore = { active: string | null; status: ModelVersionStatus | null; device: string | null };

/** `before` of an audited model change; nulls for a model or version that does not exist (the call then fails). */
async function modelBefore(ctx: AppContext, name: string, version?: string | null): Promise<ModelBefore> {
  const m = (await ctx.services.models.catalog()).find((x) => x.name === name);
  const info = m?.versions.find((x) => x.version === (version ?? m.activeVersion));
  const v = info ? toVersion(info) : null;
  return {
    active: m?.activeVersion ?? null,
    status: v?.status ?? null,
    device: v?.device ? deviceLabel(v.device.actual) : null,
  };
}

/**
 * The model registry over GraphQL (docs/models.md): reads for every signed-in user, changes for
 * admins, each written to the audit log (actor, request, the model and what came of it) whether
 * it worked or not.
 */
@Resolver()
export class ModelsResolver {
  @Authorized()
  @Query(() => [ModelType], {
    nullable: true,
    description:
      'Every model with its versions: those this process holds, and those recorded in the database that it does not (loaded: false). Null, with FORBIDDEN or UNAUTHENTICATED in errors, for a caller it refuses (other root fields keep their data)',
  })
  async models(@Ctx() ctx: AppContext): Promise<ModelType[]> {
    return (await ctx.services.models.catalog()).map(toModel);
  }

  @Authorized()
  @Query(() => ModelType, {
    nullable: true,
    description: 'One model by name, as models lists it; null when no model has that name',
  })
  async model(
    @Arg('name', () => String, { description: 'Model.name, exactly' }) name: string,
    @Ctx() ctx: AppContext,
  ): Promise<ModelType | null> {
    const m = (await ctx.services.models.catalog()).find((x) => x.name === name);
    return m ? toModel(m) : null;
  }

  @Authorized(Role.ADMIN)
  @Audited(AuditAction.MODEL_UPLOADED, {
    details: (a: { activate: boolean }) => ({ activate: a.activate }),
    outcome: versionOutcome,
  })
  @Mutation(() => ModelVersionType, {
    description:
      'Installs a model package (.zip or .tar.gz) after every check passes; with activate, makes it the active version. A name a classification ensemble has is refused (CONFLICT, check name.taken, reason ENSEMBLE_NAME)',
  })
  async uploadModelPackage(
    @Arg('file', () => GraphQLUpload, {
      description: 'The package archive (multipart upload), at most MODEL_PACKAGE_MAX_BYTES; see docs/models.md',
    })
    file: Promise<FileUpload>,
    @Arg('activate', () => Boolean, {
      defaultValue: false,
      description: 'Also make it the active version once installed (a hot swap on every process)',
    })
    activate: boolean,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<ModelVersionType> {
    const upload = await file;
    const info = await installUpload(ctx.services.models, upload.createReadStream(), {
      maxBytes: ctx.services.config.MODEL_PACKAGE_MAX_BYTES,
      activate,
      uploadedBy: user.id,
      checkName: (name) => refuseEnsembleName(ctx.em, name),
      mapStreamError: (err) => uploadError(err, 'file'),
    });
    ctx.logger.info({ model: info.name, version: info.version, activate }, 'model package uploaded');
    return toVersion(info);
  }

  @Authorized(Role.ADMIN)
  @Audited<{ name: string; version: string }, ModelVersionType, ModelBefore>(AuditAction.MODEL_ACTIVATED, {
    details: nameAndVersion,
    before: (a, ctx) => modelBefore(ctx, a.name, a.version),
    outcome: (v, _a, b) => ({
      ...versionOutcome(v),
      before: { active: b.active, status: b.status },
      after: { active: v.version, status: v.status },
    }),
  })
  @Mutation(() => ModelVersionType, {
    description: 'Hot swap: loads, warms and checks the version beside the active one, then switches every process',
  })
  async activateModelVersion(
    @Arg('name', () => String, { description: 'Model.name' }) name: string,
    @Arg('version', () => String, { description: 'The version to activate (ModelVersion.version)' }) version: string,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<ModelVersionType> {
    return toVersion(await ctx.services.models.activate(name, version, { actorId: user.id }));
  }

  @Authorized(Role.ADMIN)
  @Audited<{ name: string; version: string }, ModelVersionType, ModelBefore>(AuditAction.MODEL_UNLOADED, {
    details: nameAndVersion,
    before: (a, ctx) => modelBefore(ctx, a.name, a.version),
    outcome: (v, _a, b) => ({ ...versionOutcome(v), before: { status: b.status }, after: { status: v.status } }),
  })
  @Mutation(() => ModelVersionType, {
    description: 'Takes a version out of service on every process; its running requests finish first',
  })
  async unloadModelVersion(
    @Arg('name', () => String, { description: 'Model.name' }) name: string,
    @Arg('version', () => String, {
      description: 'The version to unload; unloading the active one leaves the model with none',
    })
    version: string,
    @Ctx() ctx: AppContext,
  ): Promise<ModelVersionType> {
    return toVersion(await ctx.services.models.unload(name, version));
  }

  @Authorized(Role.ADMIN)
  @Audited(AuditAction.MODEL_DEVICE_CHANGED, {
    details: (a: { name: string; version?: string | null; device: DeviceInput }) => ({
      name: a.name,
      version: a.version,
      requested: deviceLabel(a.device),
    }),
    before: (a: { name: string; version?: string | null }, ctx: AppContext) => modelBefore(ctx, a.name, a.version),
    outcome: (v: ModelVersionType, _a: unknown, b: ModelBefore) => ({
      ...versionOutcome(v),
      fallbackReason: v.device?.fallbackReason ?? null,
      before: { device: b.device },
      after: { device: v.device ? deviceLabel(v.device.actual) : null },
    }),
  })
  @Mutation(() => ModelVersionType, {
    description:
      'Re-places a version (default: the active one) on cpu, webgpu, cuda[:N] or tensorrt[:N], live, falling back to cpu',
  })
  async setModelDevice(
    @Arg('name', () => String, { description: 'Model.name' }) name: string,
    @Arg('version', () => String, { nullable: true, description: 'The version to move; default the active one' })
    version: string | null,
    @Arg('device', () => DeviceInput, {
      description: 'Where to run it; falls back down its chain to CPU (see ModelVersion.device)',
    })
    device: DeviceInput,
    @Ctx() ctx: AppContext,
  ): Promise<ModelVersionType> {
    return toVersion(await ctx.services.models.setDevice(name, version ?? undefined, deviceText(device)));
  }

  @Authorized(Role.ADMIN)
  @Audited(AuditAction.MODEL_CACHE_REGENERATED, {
    outcome: (vs: ModelVersionType[]) => ({
      versions: vs.map((v) => `${v.name}@${v.version}`),
      failed: vs.filter((v) => v.error).map((v) => `${v.name}@${v.version}`),
    }),
  })
  @Mutation(() => [ModelVersionType], {
    description:
      'Re-creates and warms every loaded session, in every process; a version that failed keeps its old session and carries the failure in `error` (other processes report theirs as FAILED registry events)',
  })
  async regenerateModelCache(@Ctx() ctx: AppContext): Promise<ModelVersionType[]> {
    return (await ctx.services.models.regenerateCache()).map(toVersion);
  }

  @Authorized(Role.ADMIN)
  @Audited<{ name: string }, ModelVersionType, ModelBefore>(AuditAction.MODEL_ROLLED_BACK, {
    details: (a) => ({ name: a.name }),
    before: (a, ctx) => modelBefore(ctx, a.name),
    outcome: (v, _a, b) => ({ ...versionOutcome(v), before: { active: b.active }, after: { active: v.version } }),
  })
  @Mutation(() => ModelVersionType, { description: 'Activates the version that was active before the current one' })
  async rollbackModelVersion(
    @Arg('name', () => String, {
      description: 'Model.name; rolling back again goes one step further back (CONFLICT when none is left)',
    })
    name: string,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<ModelVersionType> {
    return toVersion(await ctx.services.models.rollback(name, { actorId: user.id }));
  }

  @Authorized(Role.ADMIN)
  @Subscription(() => ModelRegistryEventObject, {
    topics: MODEL_REGISTRY_EVENTS,
    description: 'Loaded, activated, failed, fell back, draining and unloaded, from every server process',
  })
  modelRegistryEvents(@Root() e: RegistryEventMessage): ModelRegistryEventObject {
    return {
      type: e.type.toUpperCase() as ModelRegistryEventType,
      name: e.name,
      version: e.version,
      at: new Date(e.at),
      device: toModelDevice(e.device),
      previousVersion: e.previousVersion ?? null,
      message: e.message ?? null,
      processId: e.processId,
    };
  }
}

export function toVersion(v: ModelVersionInfo): ModelVersionType {
  return {
    id: modelVersionId(v.name, v.version),
    name: v.name,
    version: v.version,
    task: v.task,
    status: v.status as ModelVersionStatus,
    active: v.active,
    loaded: v.loaded,
    labels: v.labels,
    malignantLabels: v.malignantLabels,
    device: toModelDevice(v.device),
    sha256: v.sha256,
    loadMs: v.loadMs,
    loadedAt: v.loadedAt,
    createdAt: v.createdAt,
    uploadedBy: v.uploadedBy,
    error: v.error,
    stats: v.stats,
  };
}

export function toModel(m: ModelInfo): ModelType {
  return {
    id: modelId(m.name),
    name: m.name,
    task: m.versions[0]?.task ?? 'classification',
    activeVersion: m.activeVersion,
    versions: m.versions.map(toVersion),
  };
}
