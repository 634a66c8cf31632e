import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ModelVersion } from '../../entities/model-version';
import type {
  ActivationHistory,
  DeviceInfo,
  RegistryStore,
  RollbackTarget,
  VersionRecord,
  VersionStatus,
} from './store';

/**
 * The registry's store on PostgreSQL (the `model_versions` table). Every call works on a fresh
 * fork of the EntityManager: the registry calls it from outside any request.
 */
export class PgRegistryStore implements RegistryStore {
  constructor(private readonly forkEm: () => EntityManager) {}

  async recordVersion(record: VersionRecord): Promise<void> {
    const em = this.forkEm();
    const row =
      (await em.findOne(ModelVersion, { name: record.name, version: record.version })) ??
      em.create(ModelVersion, { name: record.name, version: record.version } as ModelVersion);
    Object.assign(row, {
      task: record.task,
      modelSha256: record.modelSha256,
      packageDir: record.packageDir,
      status: record.status,
      uploadedBy: record.uploadedBy,
      createdAt: record.createdAt,
      loadedAt: record.loadedAt,
      error: record.error,
      ...deviceColumns(record.device),
    });
    await em.persistAndFlush(row);
  }

  async setStatus(
    name: string,
    version: string,
    status: VersionStatus,
    patch: Partial<Pick<VersionRecord, 'device' | 'loadedAt' | 'error'>> = {},
  ): Promise<void> {
    const set: Partial<ModelVersion> = { status, updatedAt: new Date() };
    if (patch.device !== undefined) Object.assign(set, deviceColumns(patch.device));
    if (patch.loadedAt !== undefined) set.loadedAt = patch.loadedAt;
    if (patch.error !== undefined) set.error = patch.error;
    await this.forkEm().nativeUpdate(ModelVersion, { name, version }, set);
  }

  async setActive(name: string, version: string | null, history?: ActivationHistory): Promise<void> {
    await this.forkEm().transactional(async (em) => {
      const conn = em.getConnection();
      const tx = em.getTransactionContext();
      // Row locks on the model's versions serialise two processes activating at once.
      await conn.execute(`select id from model_versions where name = ? for update`, [name], 'all', tx);
      await conn.execute(
        `update model_versions set active = false, status = case when status = 'ACTIVE' then 'READY' else status end, updated_at = now()
          where name = ? and active and version is distinct from ?`,
        [name, version],
        'run',
        tx,
      );
      if (version !== null) {
        await conn.execute(
          `update model_versions set active = true, status = 'ACTIVE', updated_at = now() where name = ? and version = ?`,
          [name, version],
          'run',
          tx,
        );
      }
      if (history?.kind === 'activate' && version !== null) {
        // clock_timestamp, not now(): the order of two activations in one millisecond must hold.
        await conn.execute(
          `insert into model_activations (id, created_at, updated_at, name, version, previous_version, actor_id) values (?, clock_timestamp(), clock_timestamp(), ?, ?, ?, ?)`,
          [randomUUID(), name, version, history.previous, history.actorId ?? null],
          'run',
          tx,
        );
      } else if (history?.kind === 'rollback') {
        await conn.execute(
          `update model_activations set rolled_back_at = clock_timestamp(), updated_at = clock_timestamp()
            where name = ? and rolled_back_at is null and created_at >= (select created_at from model_activations where id = ?)`,
          [name, history.undo],
          'run',
          tx,
        );
      }
    });
  }

  async rollbackTarget(name: string, current: string): Promise<RollbackTarget | null> {
    const rows = (await this.forkEm()
      .getConnection()
      .execute(
        `select id, previous_version as "previousVersion" from model_activations
        where name = ? and version = ? and rolled_back_at is null and previous_version is not null order by created_at desc limit 1`,
        [name, current],
      )) as Array<{ id: string; previousVersion: string }>;
    return rows[0] ? { version: rows[0].previousVersion, activationId: rows[0].id } : null;
  }

  async activeVersions(): Promise<Array<{ name: string; version: string }>> {
    const rows = await this.forkEm().find(
      ModelVersion,
      { active: true },
      { fields: ['name', 'version'], orderBy: { name: 'asc' } },
    );
    return rows.map((r) => ({ name: r.name, version: r.version }));
  }

  async getVersion(name: string, version: string): Promise<VersionRecord | null> {
    const r = await this.forkEm().findOne(ModelVersion, { name, version });
    return r ? toRecord(r) : null;
  }

  async listVersions(): Promise<VersionRecord[]> {
    const rows = await this.forkEm().find(ModelVersion, {}, { orderBy: { name: 'asc', createdAt: 'asc' } });
    return rows.map(toRecord);
  }
}

function deviceColumns(
  d: DeviceInfo | null,
): Pick<ModelVersion, 'deviceRequested' | 'deviceActual' | 'deviceFallbackReason'> {
  return {
    deviceRequested: d?.requested ?? null,
    deviceActual: d?.actual ?? null,
    deviceFallbackReason: d?.fallbackReason ?? null,
  };
}

function toRecord(r: ModelVersion): VersionRecord {
  return {
    name: r.name,
    version: r.version,
    task: r.task as VersionRecord['task'],
    modelSha256: r.modelSha256,
    packageDir: r.packageDir,
    status: r.status as VersionStatus,
    device: r.deviceActual
      ? {
          requested: r.deviceRequested ?? r.deviceActual,
          actual: r.deviceActual,
          fallbackReason: r.deviceFallbackReason ?? null,
        }
      : null,
    uploadedBy: r.uploadedBy ?? null,
    createdAt: r.createdAt,
    loadedAt: r.loadedAt ?? null,
    error: r.error ?? null,
  };
}
