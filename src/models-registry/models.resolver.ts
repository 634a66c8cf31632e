import { Arg, Authorized, Ctx, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import GraphQLUpload from 'graphql-upload/GraphQLUpload.mjs';
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import { AuditAction } from '../modules/accounts/auth-service';
import { Role } from '../entities';
import type { ModelInfo, ModelVersionInfo } from './catalogue/catalogue';
import { MODEL_REGISTRY_EVENTS, type RegistryEventMessage } from './setup';
import { installUpload } from './lifecycle/upload';
import {
  ModelRegistryEventObject,
  ModelRegistryEventType,
  ModelType,
  ModelVersionStatus,
  ModelVersionType,
} from './models.types';
import type { AppContext } from '../schema/context';
import { uploadError } from '../infra/http/uploads';
import { errorCodeOf } from '../infra/errors';

/**
 * Runs an admin's change to the registry and writes it to the audit log (actor, request, the
 * model and what came of it), whether it worked or not.
 */
async function audited<T>(
  ctx: AppContext,
  action: AuditAction,
  details: Record<string, unknown>,
  change: () => Promise<T>,
  outcome: (r: T) => Record<string, unknown>,
): Promise<T> {
  const auth = ctx.services.auth.auth;
  const entry = { actorId: ctx.user!.id, meta: { ip: ctx.ip, userAgent: ctx.userAgent } };
  try {
    const result = await change();
    await auth.audit(ctx.em, action, { ...entry, success: true, details: { ...details, ...outcome(result) } });
    return result;
  } catch (e) {
    await auth.audit(ctx.em, action, { ...entry, success: false, details: { ...details, error: errorCodeOf(e) } });
    throw e;
  }
}

const versionOutcome = (v: ModelVersionInfo) => ({
  name: v.name,
  version: v.version,
  status: v.status,
  device: v.device?.actual ?? null,
});

/** The model registry over GraphQL (docs/models.md): reads for every signed-in user, changes for admins (audited). */
@Resolver()
export class ModelsResolver {
  @Authorized()
  @Query(() => [ModelType], {
    description:
      'Every model with its versions: those this process holds, and those recorded in the database that it does not (loaded: false)',
  })
  async models(@Ctx() ctx: AppContext): Promise<ModelType[]> {
    return (await ctx.services.models.catalog()).map(toModel);
  }

  @Authorized()
  @Query(() => ModelType, { nullable: true })
  async model(@Arg('name', () => String) name: string, @Ctx() ctx: AppContext): Promise<ModelType | null> {
    const m = (await ctx.services.models.catalog()).find((x) => x.name === name);
    return m ? toModel(m) : null;
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ModelVersionType, {
    description:
      'Installs a model package (.zip or .tar.gz) after every check passes; with activate, makes it the active version',
  })
  async uploadModelPackage(
    @Arg('file', () => GraphQLUpload) file: Promise<FileUpload>,
    @Arg('activate', () => Boolean, { defaultValue: false }) activate: boolean,
    @Ctx() ctx: AppContext,
  ): Promise<ModelVersionType> {
    const upload = await file;
    const info = await audited(
      ctx,
      AuditAction.MODEL_UPLOADED,
      { activate },
      () =>
        installUpload(ctx.services.models, upload.createReadStream(), {
          maxBytes: ctx.services.config.MODEL_PACKAGE_MAX_BYTES,
          activate,
          uploadedBy: ctx.user!.id,
          mapStreamError: (err) => uploadError(err, 'file'),
        }),
      versionOutcome,
    );
    ctx.logger.info({ model: info.name, version: info.version, activate }, 'model package uploaded');
    return toVersion(info);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ModelVersionType, {
    description: 'Hot swap: loads, warms and checks the version beside the active one, then switches every process',
  })
  async activateModelVersion(
    @Arg('name', () => String) name: string,
    @Arg('version', () => String) version: string,
    @Ctx() ctx: AppContext,
  ): Promise<ModelVersionType> {
    return toVersion(
      await audited(
        ctx,
        AuditAction.MODEL_ACTIVATED,
        { name, version },
        () => ctx.services.models.activate(name, version, { actorId: ctx.user!.id }),
        versionOutcome,
      ),
    );
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ModelVersionType, {
    description: 'Takes a version out of service on every process; its running requests finish first',
  })
  async unloadModelVersion(
    @Arg('name', () => String) name: string,
    @Arg('version', () => String) version: string,
    @Ctx() ctx: AppContext,
  ): Promise<ModelVersionType> {
    return toVersion(
      await audited(
        ctx,
        AuditAction.MODEL_UNLOADED,
        { name, version },
        () => ctx.services.models.unload(name, version),
        versionOutcome,
      ),
    );
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ModelVersionType, {
    description:
      'Re-places a version (default: the active one) on cpu, webgpu, cuda[:N] or tensorrt[:N], live, falling back to cpu',
  })
  async setModelDevice(
    @Arg('name', () => String) name: string,
    @Arg('version', () => String, { nullable: true }) version: string | null,
    @Arg('device', () => String) device: string,
    @Ctx() ctx: AppContext,
  ): Promise<ModelVersionType> {
    const change = () => ctx.services.models.setDevice(name, version ?? undefined, device);
    return toVersion(
      await audited(ctx, AuditAction.MODEL_DEVICE_CHANGED, { name, version, requested: device }, change, (v) => ({
        ...versionOutcome(v),
        fallbackReason: v.device?.fallbackReason ?? null,
      })),
    );
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => [ModelVersionType], {
    description:
      'Re-creates and warms every loaded session, in every process; a version that failed keeps its old session and carries the failure in `error` (other processes report theirs as FAILED registry events)',
  })
  async regenerateModelCache(@Ctx() ctx: AppContext): Promise<ModelVersionType[]> {
    const versions = await audited(
      ctx,
      AuditAction.MODEL_CACHE_REGENERATED,
      {},
      () => ctx.services.models.regenerateCache(),
      (vs) => ({
        versions: vs.map((v) => `${v.name}@${v.version}`),
        failed: vs.filter((v) => v.error).map((v) => `${v.name}@${v.version}`),
      }),
    );
    return versions.map(toVersion);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ModelVersionType, { description: 'Activates the version that was active before the current one' })
  async rollbackModelVersion(
    @Arg('name', () => String) name: string,
    @Ctx() ctx: AppContext,
  ): Promise<ModelVersionType> {
    return toVersion(
      await audited(
        ctx,
        AuditAction.MODEL_ROLLED_BACK,
        { name },
        () => ctx.services.models.rollback(name, { actorId: ctx.user!.id }),
        versionOutcome,
      ),
    );
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
      device: e.device ?? null,
      previousVersion: e.previousVersion ?? null,
      message: e.message ?? null,
      processId: e.processId,
    };
  }
}

function toVersion(v: ModelVersionInfo): ModelVersionType {
  return {
    name: v.name,
    version: v.version,
    task: v.task,
    status: v.status as ModelVersionStatus,
    active: v.active,
    loaded: v.loaded,
    labels: v.labels,
    malignantLabels: v.malignantLabels,
    device: v.device,
    sha256: v.sha256,
    loadMs: v.loadMs,
    loadedAt: v.loadedAt,
    createdAt: v.createdAt,
    uploadedBy: v.uploadedBy,
    error: v.error,
    stats: v.stats,
  };
}

function toModel(m: ModelInfo): ModelType {
  return {
    name: m.name,
    task: m.versions[0]?.task ?? 'classification',
    activeVersion: m.activeVersion,
    versions: m.versions.map(toVersion),
  };
}
