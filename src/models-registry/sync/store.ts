/**
 * Persistence of model versions behind a small interface. The in-memory form serves embedded
 * mode and tests; the PostgreSQL form (MikroORM `ModelVersion` entity) implements the same.
 */
export type VersionStatus = 'LOADING' | 'READY' | 'ACTIVE' | 'FAILED' | 'DRAINING' | 'UNLOADED';

export interface DeviceInfo {
  requested: string;
  actual: string;
  fallbackReason: string | null;
}

export interface VersionRecord {
  name: string;
  version: string;
  task: 'classification' | 'segmentation';
  /** sha256 of the ONNX file. */
  modelSha256: string;
  /** Folder holding the package (shared storage in a scaled-out deployment). */
  packageDir: string;
  status: VersionStatus;
  device: DeviceInfo | null;
  uploadedBy: string | null;
  createdAt: Date;
  loadedAt: Date | null;
  error: string | null;
}

/** An activation to record (an admin's), or a rollback undoing the activations from `undo` on. */
export type ActivationHistory =
  { kind: 'activate'; previous: string | null; actorId?: string | null } | { kind: 'rollback'; undo: string };

export interface RollbackTarget {
  version: string;
  /** The activation a rollback to `version` undoes (it and every later one of the model). */
  activationId: string;
}

export interface RegistryStore {
  /** Inserts a version, or updates the row of the same name and version. */
  recordVersion(record: VersionRecord): Promise<void>;
  /** Status (and optionally device, load time, error) of one version. */
  setStatus(
    name: string,
    version: string,
    status: VersionStatus,
    patch?: Partial<Pick<VersionRecord, 'device' | 'loadedAt' | 'error'>>,
  ): Promise<void>;
  /**
   * Makes `version` the model's active version (null: none), demoting the previous one to
   * READY, in one transaction: this is the pointer processes that start later read. With
   * `history`, the same transaction records the activation on the rollback history, or marks
   * the activations a rollback undoes.
   */
  setActive(name: string, version: string | null, history?: ActivationHistory): Promise<void>;
  /**
   * What a rollback of `name` goes back to: the version the most recent activation of `current`
   * that is not undone yet replaced (null: nothing to roll back to).
   */
  rollbackTarget(name: string, current: string): Promise<RollbackTarget | null>;
  activeVersions(): Promise<Array<{ name: string; version: string }>>;
  getVersion(name: string, version: string): Promise<VersionRecord | null>;
  /** Every recorded version, by name then creation time (versions other processes hold included). */
  listVersions(): Promise<VersionRecord[]>;
}

export class InMemoryRegistryStore implements RegistryStore {
  private readonly rows = new Map<string, VersionRecord>();
  private readonly active = new Map<string, string>();
  private readonly activations: Array<{
    id: string;
    name: string;
    version: string;
    previous: string | null;
    undone: boolean;
  }> = [];
  private seq = 0;
  private key = (name: string, version: string) => `${name}@${version}`;

  async recordVersion(record: VersionRecord): Promise<void> {
    this.rows.set(this.key(record.name, record.version), { ...record });
  }

  async setStatus(
    name: string,
    version: string,
    status: VersionStatus,
    patch: Partial<Pick<VersionRecord, 'device' | 'loadedAt' | 'error'>> = {},
  ): Promise<void> {
    const row = this.rows.get(this.key(name, version));
    if (row) Object.assign(row, patch, { status });
  }

  async setActive(name: string, version: string | null, history?: ActivationHistory): Promise<void> {
    if (history?.kind === 'activate' && version !== null) {
      this.activations.push({ id: String(++this.seq), name, version, previous: history.previous, undone: false });
    } else if (history?.kind === 'rollback') {
      const from = this.activations.findIndex((a) => a.id === history.undo);
      if (from >= 0) for (const a of this.activations.slice(from)) if (a.name === name) a.undone = true;
    }
    const prev = this.active.get(name);
    if (prev !== undefined && prev !== version) {
      const row = this.rows.get(this.key(name, prev));
      if (row && row.status === 'ACTIVE') row.status = 'READY';
    }
    if (version === null) this.active.delete(name);
    else {
      this.active.set(name, version);
      const row = this.rows.get(this.key(name, version));
      if (row) row.status = 'ACTIVE';
    }
  }

  async activeVersions(): Promise<Array<{ name: string; version: string }>> {
    return [...this.active].map(([name, version]) => ({ name, version }));
  }

  async rollbackTarget(name: string, current: string): Promise<RollbackTarget | null> {
    const a = this.activations.findLast(
      (x) => x.name === name && x.version === current && !x.undone && x.previous !== null,
    );
    return a ? { version: a.previous!, activationId: a.id } : null;
  }

  async getVersion(name: string, version: string): Promise<VersionRecord | null> {
    const row = this.rows.get(this.key(name, version));
    return row ? { ...row } : null;
  }

  async listVersions(): Promise<VersionRecord[]> {
    return [...this.rows.values()]
      .map((r) => ({ ...r }))
      .sort((a, b) => a.name.localeCompare(b.name) || a.createdAt.getTime() - b.createdAt.getTime());
  }
}
