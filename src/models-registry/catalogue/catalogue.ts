import { RegistryError } from '../errors';
import type { Manifest } from '../package/manifest';
import { readManifest } from '../package/package';
import { StatsCounter, type VersionStats } from '../runtime/stats';
import type { DeviceInfo, RegistryStore, VersionRecord, VersionStatus } from '../sync/store';
import { deviceInfo, liveSlots, versionKey, type Entry } from './entry';
import { compareSemver } from './semver';

export interface ModelVersionInfo {
  name: string;
  version: string;
  task: Manifest['task'];
  status: VersionStatus;
  active: boolean;
  labels: string[];
  malignantLabels: string[];
  /** The model's input (size, resize mode, normalisation), from its manifest; null when unreadable. */
  input: Manifest['input'] | null;
  device: DeviceInfo | null;
  sha256: string;
  packageDir: string;
  stats: VersionStats;
  /** Leases open on this version's sessions (current and draining). */
  leases: number;
  /** Whether this process holds the version; false for one only recorded in the store (see `catalog`). */
  loaded: boolean;
  loadedAt: Date | null;
  loadMs: number | null;
  error: string | null;
  uploadedBy: string | null;
  createdAt: Date;
}

export interface ModelInfo {
  name: string;
  activeVersion: string | null;
  versions: ModelVersionInfo[];
}

const newestFirst = (a: { version: string }, b: { version: string }) => compareSemver(b.version, a.version);

/**
 * What versions exist: those this process holds (`Entry`, with the active one per model name),
 * and, through the store, those other processes recorded. Status changes are written through to
 * the store. It changes nothing by itself: the lifecycle and the leases do.
 */
export class Catalogue {
  private readonly entries = new Map<string, Entry>();
  private readonly active = new Map<string, Entry>();

  constructor(private readonly store: RegistryStore) {}

  // ---- the versions held here ----------------------------------------------------------------

  get(name: string, version: string): Entry | undefined {
    return this.entries.get(versionKey(name, version));
  }

  has(name: string, version: string): boolean {
    return this.entries.has(versionKey(name, version));
  }

  /** The version held here; NOT_FOUND when this process does not hold it. */
  require(name: string, version: string): Entry {
    const e = this.get(name, version);
    if (!e) throw new RegistryError('NOT_FOUND', `no version ${version} of model "${name}"`, { field: 'version' });
    return e;
  }

  add(e: Entry): void {
    this.entries.set(versionKey(e.name, e.version), e);
  }

  all(): Entry[] {
    return [...this.entries.values()];
  }

  /** Model names held here, in the order first seen. */
  names(): string[] {
    return [...new Set(this.all().map((e) => e.name))];
  }

  /** The versions of `name` held here, newest first. */
  versionsOf(name: string): Entry[] {
    return this.all()
      .filter((e) => e.name === name)
      .sort(newestFirst);
  }

  // ---- the active pointer ----------------------------------------------------------------------

  activeEntry(name: string): Entry | undefined {
    return this.active.get(name);
  }

  activeVersion(name: string): string | null {
    return this.active.get(name)?.version ?? null;
  }

  /** The switch itself: synchronous, so no request sees a half-done swap. */
  setActive(name: string, e: Entry): void {
    this.active.set(name, e);
  }

  clearActive(name?: string): void {
    if (name === undefined) this.active.clear();
    else this.active.delete(name);
  }

  // ---- status ----------------------------------------------------------------------------------

  /** Sets the status here and writes it (with device and load time) to the store, never failing the caller. */
  setStatus(e: Entry, status: VersionStatus, patch: { error?: string | null } = {}): void {
    e.status = status;
    const device = e.lastPlacement ? deviceInfo(e.lastPlacement) : null;
    void this.store
      .setStatus(e.name, e.version, status, {
        device,
        loadedAt: e.slot?.loadedAt ?? null,
        ...(patch.error !== undefined ? { error: patch.error } : {}),
      })
      .catch(() => undefined);
  }

  // ---- reading ---------------------------------------------------------------------------------

  list(): ModelInfo[] {
    return this.names()
      .sort()
      .map((n) => this.model(n)!);
  }

  model(name: string): ModelInfo | null {
    const versions = this.versionsOf(name);
    if (!versions.length) return null;
    return { name, activeVersion: this.activeVersion(name), versions: versions.map((e) => this.info(e)) };
  }

  versionInfo(name: string, version: string): ModelVersionInfo | null {
    const e = this.get(name, version);
    return e ? this.info(e) : null;
  }

  /**
   * This process's models plus the versions recorded in the store that it does not hold (e.g.
   * uploaded to another process and not activated): those show their stored status and device,
   * `loaded: false`, and labels read from their manifest in shared storage.
   */
  async catalog(): Promise<ModelInfo[]> {
    const local = new Map(this.list().map((m) => [m.name, m]));
    const records = await this.store.listVersions().catch(() => []);
    for (const rec of records) {
      if (this.has(rec.name, rec.version)) continue;
      const m = local.get(rec.name) ?? { name: rec.name, activeVersion: null, versions: [] };
      m.versions.push(await recordInfo(rec));
      local.set(rec.name, m);
    }
    for (const m of local.values()) m.versions.sort(newestFirst);
    return [...local.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  info(e: Entry): ModelVersionInfo {
    const slot = e.slot;
    let leases = slot?.leases ?? 0;
    for (const d of e.draining) leases += d.leases;
    return {
      name: e.name,
      version: e.version,
      task: e.manifest.task,
      status: e.status,
      active: this.active.get(e.name) === e,
      labels: e.manifest.labels ?? [],
      malignantLabels: e.manifest.malignantLabels ?? [],
      input: e.manifest.input,
      device: e.lastPlacement ? deviceInfo(e.lastPlacement) : null,
      sha256: e.modelSha256,
      packageDir: e.dir,
      // A getter: the percentiles sort the latency samples, which only readers of stats need.
      get stats() {
        return e.stats.snapshot();
      },
      leases,
      // A session of its own, or a swapped-out one still finishing requests or pinned jobs.
      loaded: !!slot || e.draining.size > 0,
      loadedAt: slot?.loadedAt ?? null,
      loadMs: slot?.loadMs ?? null,
      error: e.error,
      uploadedBy: e.uploadedBy,
      createdAt: e.createdAt,
    };
  }

  /** Live sessions (current and draining) by actual device, for the metrics gauge. */
  sessionCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const e of this.entries.values()) {
      for (const s of liveSlots(e)) counts.set(s.placement.actual, (counts.get(s.placement.actual) ?? 0) + 1);
    }
    return counts;
  }
}

/** A version only recorded in the store, as `catalog` shows it. */
async function recordInfo(rec: VersionRecord): Promise<ModelVersionInfo> {
  const manifest = await readManifest(rec.packageDir).catch(() => null);
  return {
    name: rec.name,
    version: rec.version,
    task: rec.task,
    status: rec.status,
    active: false,
    labels: manifest?.labels ?? [],
    malignantLabels: manifest?.malignantLabels ?? [],
    input: manifest?.input ?? null,
    device: rec.device,
    sha256: rec.modelSha256,
    packageDir: rec.packageDir,
    stats: new StatsCounter().snapshot(),
    leases: 0,
    loaded: false,
    loadedAt: null,
    loadMs: null,
    error: rec.error,
    uploadedBy: rec.uploadedBy,
    createdAt: rec.createdAt,
  };
}
