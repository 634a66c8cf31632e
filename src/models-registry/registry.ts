import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type * as ort from 'onnxruntime-node';
import type { RegistryBus, RegistryMessage } from './sync/bus';
import { RegistryError, shortError } from './errors';
import type { ExtractLimits } from './package/extract';
import { assertGoldenCases } from './package/golden';
import type { Manifest } from './package/manifest';
import type { RegistryMetrics } from './runtime/metrics';
import { findPackageFolders, folderSignature } from './package/folders';
import { checkPackageFiles, listPackageFiles, loadChecked, movePackage, preparePackage, readManifest } from './package/package';
import { compareSemver } from './catalogue/semver';
import type { Placement, Threads } from './runtime/sessions';
import type { ModelSession } from './runtime/threaded-session';
import { StatsCounter, type VersionStats } from './runtime/stats';
import {
  InMemoryRegistryStore,
  type ActivationHistory,
  type DeviceInfo,
  type RegistryStore,
  type VersionStatus,
} from './sync/store';

/**
 * The process-local model registry: versions per model name, one active version per name,
 * sessions placed on devices, leases with reference counting, and hot swap. See docs/models.md.
 *
 * Invariants:
 * - `acquire` and the active-pointer switch are synchronous, so a request gets exactly the
 *   version active at the instant it began, and keeps that session until it releases the lease.
 * - A session that is swapped out (activation, re-placement, unload) drains: it is released
 *   only when its last lease ends, and, while queued jobs pinned its version (`PinSource`), only
 *   once the last of them has finished (it is held).
 * - A job that pinned a version always gets it (`leaseForJob`): a version this process does not
 *   hold is loaded again from its package, and kept only while pinned jobs need it.
 * - Mutations of one model name run one at a time; a failed one leaves the active version as it was.
 */

export interface ModelLease {
  readonly name: string;
  readonly version: string;
  readonly manifest: Manifest;
  readonly device: DeviceInfo;
  readonly session: ModelSession;
  /** Runs the session, counting the request in the version's stats and metrics. */
  run(feeds: ort.InferenceSession.FeedsType, fetches?: readonly string[]): Promise<ort.InferenceSession.ReturnType>;
  /** Ends the lease (idempotent); the session may be released after this. */
  release(): void;
}

export interface ModelVersionInfo {
  name: string;
  version: string;
  task: Manifest['task'];
  status: VersionStatus;
  active: boolean;
  labels: string[];
  malignantLabels: string[];
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

export type RegistryEventType = 'loaded' | 'activated' | 'failed' | 'fell_back' | 'unloaded' | 'draining';

export interface RegistryEvent {
  type: RegistryEventType;
  /** Null when a package was refused before its manifest could be read. */
  name: string | null;
  version: string | null;
  at: Date;
  device?: DeviceInfo;
  previousVersion?: string;
  message?: string;
}

export interface ModelRegistryOptions {
  /** Where uploaded packages are kept: `<packagesDir>/<name>/<version>/`. */
  packagesDir: string;
  store?: RegistryStore;
  bus?: RegistryBus;
  metrics?: RegistryMetrics;
  limits?: ExtractLimits;
  /** Overrides every manifest's `devices` (e.g. from config); per-version `setDevice` overrides this. */
  defaultDevice?: string;
  /** This process's id on the bus. */
  processId?: string;
  /** Unfinished jobs (any process) that pinned a version; see `usePins`. Without it, none. */
  pins?: PinSource;
  /** How often held sessions are checked for jobs still pinning them (ms). */
  pinSweepMs?: number;
}

/** How many unfinished jobs, in any process, pinned `name@version` (they must run on it). */
export type PinSource = (name: string, version: string) => Promise<number>;

export interface InstallOptions {
  /** Activate once loaded (an upload's `activate` argument). */
  activate?: boolean;
  uploadedBy?: string | null;
  /** Overrides the manifest's `devices` (and the registry's defaultDevice). */
  device?: string | readonly string[];
  /** Overrides the manifest's `threads`. */
  threads?: Threads;
}

/**
 * Options of a change. `broadcast: false` applies it here only (a change another process
 * broadcast, or start-up). `persist` writes the active pointer to the store; by default only the
 * process that originates a change does, so followers never race the originator's writes.
 */
interface ChangeOptions {
  broadcast?: boolean;
  persist?: boolean;
  /** The admin making the change (kept on the rollback history). */
  actorId?: string | null;
}

/** One live onnxruntime session of a version. */
interface Slot {
  session: ModelSession;
  placement: Placement;
  leases: number;
  retired: boolean;
  released: boolean;
  loadedAt: Date;
  loadMs: number;
}

interface Entry {
  name: string;
  version: string;
  manifest: Manifest;
  dir: string;
  modelSha256: string;
  status: VersionStatus;
  slot: Slot | null;
  draining: Set<Slot>;
  requestedDevice: string | readonly string[];
  threads: Threads;
  stats: StatsCounter;
  lastPlacement: Placement | null;
  error: string | null;
  uploadedBy: string | null;
  createdAt: Date;
}

const key = (name: string, version: string) => `${name}@${version}`;
const deviceInfo = (p: Placement): DeviceInfo => ({
  requested: p.requested,
  actual: p.actual,
  fallbackReason: p.fallbackReason,
});

export class ModelRegistry {
  readonly processId: string;
  readonly store: RegistryStore;
  private readonly entries = new Map<string, Entry>();
  private readonly active = new Map<string, Entry>();
  /**
   * Retired slots kept while unfinished jobs pinned their version (released by the pin sweep, not
   * by their last lease), and the sweep that releases them once no job pins them.
   */
  private readonly held = new Map<Slot, Entry>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;
  private sweepAgain = false;
  private pins: PinSource;
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly emitter = new EventEmitter();
  /** Folders installed from (discovery), and folders that failed with their content signature. */
  private readonly knownFolders = new Set<string>();
  private readonly failedFolders = new Map<string, string>();
  private unsubscribe: (() => Promise<void>) | null = null;
  private watchTimer: NodeJS.Timeout | null = null;
  private polling: Promise<unknown> | null = null;
  private applying: Promise<void> = Promise.resolve();

  constructor(private readonly opts: ModelRegistryOptions) {
    this.processId = opts.processId ?? randomUUID();
    this.store = opts.store ?? new InMemoryRegistryStore();
    this.emitter.setMaxListeners(0);
    this.pins = opts.pins ?? (async () => 0);
    opts.metrics?.bindSessionCounts(() => this.sessionCounts());
  }

  /** Where the registry learns which versions unfinished jobs pinned (the jobs layer, built after it). */
  usePins(source: PinSource): void {
    this.pins = source;
  }

  // ---- events ------------------------------------------------------------------------------

  /** Subscribes to registry events; returns the function that unsubscribes. */
  onEvent(listener: (e: RegistryEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  private emit(e: Omit<RegistryEvent, 'at'>): void {
    this.emitter.emit('event', { ...e, at: new Date() });
  }

  // ---- reading -----------------------------------------------------------------------------

  /** The Prometheus metrics, if any (the batching layer reports queue time through them). */
  get metrics(): RegistryMetrics | undefined {
    return this.opts.metrics;
  }

  /** Where uploaded packages are kept (`<packagesDir>/<name>/<version>/`); `.incoming` holds uploads being checked. */
  get packagesDir(): string {
    return this.opts.packagesDir;
  }

  activeVersion(name: string): string | null {
    return this.active.get(name)?.version ?? null;
  }

  list(): ModelInfo[] {
    const names = [...new Set([...this.entries.values()].map((e) => e.name))].sort();
    return names.map((n) => this.model(n)!);
  }

  model(name: string): ModelInfo | null {
    const versions = [...this.entries.values()].filter((e) => e.name === name);
    if (!versions.length) return null;
    versions.sort((a, b) => compareSemver(b.version, a.version));
    return { name, activeVersion: this.activeVersion(name), versions: versions.map((e) => this.info(e)) };
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
      if (this.entries.has(key(rec.name, rec.version))) continue;
      const manifest = await readManifest(rec.packageDir).catch(() => null);
      const info: ModelVersionInfo = {
        name: rec.name,
        version: rec.version,
        task: rec.task,
        status: rec.status,
        active: false,
        labels: manifest?.labels ?? [],
        malignantLabels: manifest?.malignantLabels ?? [],
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
      const m = local.get(rec.name) ?? { name: rec.name, activeVersion: null, versions: [] };
      m.versions.push(info);
      local.set(rec.name, m);
    }
    for (const m of local.values()) m.versions.sort((a, b) => compareSemver(b.version, a.version));
    return [...local.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  versionInfo(name: string, version: string): ModelVersionInfo | null {
    const e = this.entries.get(key(name, version));
    return e ? this.info(e) : null;
  }

  private info(e: Entry): ModelVersionInfo {
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
      for (const s of [...(e.slot ? [e.slot] : []), ...e.draining]) {
        counts.set(s.placement.actual, (counts.get(s.placement.actual) ?? 0) + 1);
      }
    }
    return counts;
  }

  // ---- leases ------------------------------------------------------------------------------

  /**
   * A lease on the active version (or the version named, if it is loaded). Synchronous on
   * purpose: nothing can swap the version between the look-up and the reference count.
   */
  acquire(name: string, version?: string): ModelLease {
    const e = version === undefined ? this.active.get(name) : this.entries.get(key(name, version));
    if (!e) {
      const what =
        version === undefined ? `no active version of model "${name}"` : `no version ${version} of model "${name}"`;
      throw new RegistryError('MODEL_UNAVAILABLE', what, { field: version === undefined ? 'model' : 'version' });
    }
    const slot = e.slot;
    if (!slot || (e.status !== 'ACTIVE' && e.status !== 'READY')) {
      throw new RegistryError('MODEL_UNAVAILABLE', `${e.name}@${e.version} is ${e.status}, not loaded`, {
        field: 'version',
      });
    }
    return this.lease(e, slot);
  }

  /**
   * The lease a queued job runs on. Unpinned: the version active now (the job records which),
   * else the version it was queued with. Pinned: exactly `version`, in whatever state this process
   * holds it - its own session, a swapped-out one kept for pinned jobs, or, when this process
   * holds none (unloaded since, or never loaded here), a session loaded again from its package
   * and kept until no unfinished job pins it. Fails only when the version cannot be loaded.
   */
  async leaseForJob(name: string, version: string, pinned: boolean): Promise<ModelLease> {
    if (!pinned) {
      const active = this.active.get(name);
      if (active?.slot) return this.lease(active, active.slot);
    }
    const ready = this.usableSlot(name, version);
    if (ready) return ready;
    return this.withLock(name, async () => {
      const again = this.usableSlot(name, version);
      if (again) return again;
      await this.loadFromStore(name, version);
      const e = this.entry(name, version);
      if (e.slot) return this.lease(e, e.slot);
      const slot = await this.place(e, e.requestedDevice);
      slot.retired = true;
      this.hold(e, slot);
      this.setStatus(e, 'DRAINING');
      this.emit({
        type: 'loaded',
        name,
        version,
        device: deviceInfo(slot.placement),
        message: 'loaded again for queued jobs that pinned this version',
      });
      return this.lease(e, slot);
    });
  }

  /** A lease on a live session of name@version (its own, or a swapped-out one not released yet), or null. */
  private usableSlot(name: string, version: string): ModelLease | null {
    const e = this.entries.get(key(name, version));
    if (!e) return null;
    const slot = e.slot ?? [...e.draining].find((d) => !d.released);
    return slot ? this.lease(e, slot) : null;
  }

  private lease(e: Entry, slot: Slot): ModelLease {
    slot.leases++;
    let released = false;
    const metrics = this.opts.metrics;
    const device = deviceInfo(slot.placement);
    return {
      name: e.name,
      version: e.version,
      manifest: e.manifest,
      device,
      session: slot.session,
      run: async (feeds, fetches) => {
        if (released) throw new RegistryError('MODEL_UNAVAILABLE', `lease on ${e.name}@${e.version} already released`);
        const first = feeds[e.manifest.input.name] ?? Object.values(feeds)[0];
        const images = first?.dims[0] ?? 1;
        const t0 = process.hrtime.bigint();
        let ok = false;
        try {
          const out = await slot.session.run(feeds, fetches ?? e.manifest.outputs.map((o) => o.name));
          ok = true;
          return out;
        } finally {
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          e.stats.record(ms, ok, images);
          metrics?.observeRun(e.name, e.version, slot.placement.actual, ms / 1000, images, ok);
        }
      },
      release: () => {
        if (released) return;
        released = true;
        slot.leases--;
        if (slot.retired && !this.held.has(slot) && slot.leases === 0) this.releaseSlot(e, slot);
      },
    };
  }

  /** Runs `fn` with a lease, releasing it however `fn` ends. */
  async withModel<T>(name: string, version: string | undefined, fn: (lease: ModelLease) => Promise<T>): Promise<T> {
    const lease = this.acquire(name, version);
    try {
      return await fn(lease);
    } finally {
      lease.release();
    }
  }

  private newSlot(session: ModelSession, placement: Placement, loadMs: number): Slot {
    return { session, placement, leases: 0, retired: false, released: false, loadedAt: new Date(), loadMs };
  }

  /**
   * Takes a slot out of service: released now if idle, else when its last lease ends; with
   * `pinned` (unfinished jobs pinned its version), held until the pin sweep finds none left.
   */
  private retireSlot(e: Entry, slot: Slot, pinned = 0): void {
    slot.retired = true;
    if (e.slot === slot) e.slot = null;
    if (pinned > 0) this.hold(e, slot);
    else if (slot.leases === 0) return this.releaseSlot(e, slot);
    else e.draining.add(slot);
    if (!e.slot) this.setStatus(e, 'DRAINING');
    const waiting = [
      slot.leases ? `${slot.leases} request(s) still running` : '',
      pinned ? `${pinned} queued job(s) pinned this version` : '',
    ]
      .filter(Boolean)
      .join('; ');
    this.emit({
      type: 'draining',
      name: e.name,
      version: e.version,
      device: deviceInfo(slot.placement),
      message: waiting,
    });
  }

  /** Unfinished jobs that pinned the version of `e` (0 when that cannot be read: the sweep retries). */
  private pinsOf(e: Entry): Promise<number> {
    return this.pins(e.name, e.version).catch(() => 0);
  }

  private hold(e: Entry, slot: Slot): void {
    e.draining.add(slot);
    this.held.set(slot, e);
    if (!this.sweepTimer) {
      this.sweepTimer = setInterval(() => void this.recheckPins(), this.opts.pinSweepMs ?? 2000);
      this.sweepTimer.unref();
    }
  }

  /**
   * Releases the held sessions that no unfinished job pins any more and no request uses. Runs
   * on a timer while any is held; the jobs layer also calls it when a job that pinned a version ends.
   */
  recheckPins(): Promise<void> {
    if (this.sweeping) {
      this.sweepAgain = true;
      return this.sweeping;
    }
    this.sweeping = (async () => {
      do {
        this.sweepAgain = false;
        for (const [slot, e] of [...this.held]) {
          if (slot.released) this.held.delete(slot);
          // Checked again after the read: meanwhile a job may have leased it, or an activation adopted it.
          else if (
            slot.leases === 0 &&
            (await this.pins(e.name, e.version).catch(() => 1)) === 0 &&
            slot.leases === 0 &&
            this.held.has(slot)
          ) {
            this.held.delete(slot);
            this.releaseSlot(e, slot);
          }
        }
      } while (this.sweepAgain);
      if (!this.held.size && this.sweepTimer) {
        clearInterval(this.sweepTimer);
        this.sweepTimer = null;
      }
    })().finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private releaseSlot(e: Entry, slot: Slot): void {
    if (slot.released) return;
    slot.released = true;
    e.draining.delete(slot);
    this.held.delete(slot);
    void slot.session.release().catch(() => undefined);
    if (!e.slot && e.draining.size === 0 && (e.status === 'DRAINING' || e.status === 'READY')) {
      this.setStatus(e, 'UNLOADED');
      this.emit({ type: 'unloaded', name: e.name, version: e.version, device: deviceInfo(slot.placement) });
    }
  }

  private setStatus(e: Entry, status: VersionStatus, patch: { error?: string | null } = {}): void {
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

  /** Per-name mutual exclusion for mutations. */
  private withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(name) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(name, tail);
    void tail.then(() => {
      if (this.locks.get(name) === tail) this.locks.delete(name);
    });
    return run;
  }

  private entry(name: string, version: string): Entry {
    const e = this.entries.get(key(name, version));
    if (!e) throw new RegistryError('NOT_FOUND', `no version ${version} of model "${name}"`, { field: 'version' });
    return e;
  }

  /** Creates a session for `e` on `device` (checks, warm-up and golden cases included), reporting a fallback. */
  private async place(e: Entry, device: string | readonly string[]): Promise<Slot> {
    const t0 = performance.now();
    // The files on disk must still be the ones validated (a reload happens long after install).
    await checkPackageFiles(e.dir, await listPackageFiles(e.dir), e.manifest);
    const { session, placement } = await loadChecked(e.dir, e.manifest, device, e.threads);
    const slot = this.newSlot(session, placement, performance.now() - t0);
    e.lastPlacement = placement;
    if (placement.fallbackReason) {
      this.emit({
        type: 'fell_back',
        name: e.name,
        version: e.version,
        device: deviceInfo(placement),
        message: placement.fallbackReason,
      });
    }
    return slot;
  }

  private fail(e: { name: string | null; version: string | null }, err: unknown): void {
    this.emit({
      type: 'failed',
      name: e.name,
      version: e.version,
      message: err instanceof Error ? err.message : String(err),
    });
  }

  // ---- installing ---------------------------------------------------------------------------

  /**
   * Whether name@version is taken. A version the store knows from the same folder is not a
   * conflict: it is the same package seen again (another process, or a restart).
   */
  private async versionExists(name: string, version: string, folder: string | null): Promise<boolean> {
    if (this.entries.has(key(name, version))) return true;
    const rec = await this.store.getVersion(name, version);
    if (!rec) return false;
    return !(folder && resolve(rec.packageDir).startsWith(folder));
  }

  /**
   * Validates and loads a package (folder or archive). An archive is extracted under
   * `packagesDir/.incoming` and, once every check has passed, moved to
   * `packagesDir/<name>/<version>`; a folder is used where it is. A refused package leaves
   * nothing behind and changes nothing.
   */
  async install(pathOrArchive: string, opts: InstallOptions = {}): Promise<ModelVersionInfo> {
    let prepared;
    const subject: { name: string | null; version: string | null } = { name: null, version: null };
    const t0 = performance.now();
    try {
      const folder = (await stat(pathOrArchive).catch(() => null))?.isDirectory() ? resolve(pathOrArchive) : null;
      prepared = await preparePackage(pathOrArchive, {
        limits: this.opts.limits,
        workDir: join(this.opts.packagesDir, '.incoming'),
        exists: (n, v) => this.versionExists(n, v, folder),
        device: opts.device ?? this.opts.defaultDevice,
        threads: opts.threads,
        onManifest: (m) => Object.assign(subject, { name: m.name, version: m.version }),
      });
    } catch (err) {
      this.fail(subject, err);
      throw err;
    }
    const m = prepared.manifest;
    let dir = prepared.opened.root;
    try {
      // A concurrent install of the same version may have finished while this one was checked.
      if (this.entries.has(key(m.name, m.version))) {
        throw new RegistryError('CONFLICT', `version.exists: ${m.name}@${m.version} already exists`, {
          check: 'version.exists',
          field: 'version',
        });
      }
      if (prepared.opened.tempDir) {
        dir = resolve(this.opts.packagesDir, m.name, m.version);
        if (existsSync(dir))
          throw new RegistryError('CONFLICT', `version.exists: ${m.name}@${m.version} is already stored`, {
            check: 'version.exists',
            field: 'version',
          });
        await movePackage(prepared.opened.root, dir);
        await prepared.opened.cleanup();
      }
    } catch (err) {
      await prepared.discard();
      this.fail(m, err);
      throw err;
    }
    const e: Entry = {
      name: m.name,
      version: m.version,
      manifest: m,
      dir,
      modelSha256: prepared.modelSha256,
      status: 'READY',
      slot: null,
      draining: new Set(),
      requestedDevice: opts.device ?? this.opts.defaultDevice ?? m.devices,
      threads: opts.threads ?? m.threads,
      stats: new StatsCounter(),
      lastPlacement: prepared.placement,
      error: null,
      uploadedBy: opts.uploadedBy ?? null,
      createdAt: new Date(),
    };
    e.slot = this.newSlot(prepared.session, prepared.placement, performance.now() - t0);
    this.entries.set(key(m.name, m.version), e);
    // A version the store already holds (seen again from its folder) keeps its row.
    const known = await this.store.getVersion(m.name, m.version).catch(() => null);
    if (!known)
      await this.store
        .recordVersion({
          name: e.name,
          version: e.version,
          task: m.task,
          modelSha256: e.modelSha256,
          packageDir: dir,
          status: 'READY',
          device: deviceInfo(prepared.placement),
          uploadedBy: e.uploadedBy,
          createdAt: e.createdAt,
          loadedAt: e.slot.loadedAt,
          error: null,
        })
        .catch(() => undefined);
    if (prepared.placement.fallbackReason) {
      this.emit({
        type: 'fell_back',
        name: e.name,
        version: e.version,
        device: deviceInfo(prepared.placement),
        message: prepared.placement.fallbackReason,
      });
    }
    this.emit({ type: 'loaded', name: e.name, version: e.version, device: deviceInfo(prepared.placement) });
    if (opts.activate) return this.activate(e.name, e.version, { actorId: opts.uploadedBy });
    return this.info(e);
  }

  // ---- hot swap ----------------------------------------------------------------------------

  /**
   * Makes `version` the active one: loads and warms it beside the current one if it is not
   * loaded, runs its golden cases on its device, then switches the pointer in one step. The
   * previous version drains and is released after its last request. On any failure the
   * active version stays as it was.
   */
  activate(
    name: string,
    version: string,
    opts: ChangeOptions & { history?: ActivationHistory } = {},
  ): Promise<ModelVersionInfo> {
    return this.withLock(name, async () => {
      await this.loadFromStore(name, version);
      const e = this.entry(name, version);
      const prev = this.active.get(name) ?? null;
      if (prev === e) return this.info(e);
      const statusBefore = e.status;
      let created: Slot | null = null;
      // A session kept for pinned jobs serves again rather than loading the same file twice.
      const adopted = e.slot ? null : ([...e.draining].find((d) => this.held.has(d) && !d.released) ?? null);
      try {
        if (adopted) {
          this.held.delete(adopted);
          e.draining.delete(adopted);
          adopted.retired = false;
          e.slot = adopted;
        }
        if (!e.slot) {
          this.setStatus(e, 'LOADING');
          created = await this.place(e, e.requestedDevice);
          e.slot = created;
        } else {
          await assertGoldenCases(e.slot.session, e.manifest, e.dir, e.slot.placement.actual);
        }
        if (opts.persist ?? opts.broadcast !== false) {
          await this.store.setActive(
            name,
            version,
            opts.history ?? { kind: 'activate', previous: prev?.version ?? null, actorId: opts.actorId },
          );
        }
      } catch (err) {
        if (created) {
          e.slot = null;
          this.releaseSlot(e, created);
        } else if (adopted) {
          this.retireSlot(e, adopted, await this.pinsOf(e));
        }
        e.error = shortError(err, 500);
        // A version whose (re)load failed is FAILED until a later activation loads it; one that
        // was loaded and failed its golden re-run keeps its session and status, with the error.
        this.setStatus(e, created || !e.slot ? (e.draining.size ? 'DRAINING' : 'FAILED') : statusBefore, {
          error: e.error,
        });
        this.fail(e, err);
        throw err;
      }
      // Read before the switch so the switch itself stays synchronous.
      const prevPinned = prev?.slot ? await this.pinsOf(prev) : 0;
      // The switch: synchronous, so no request can see a half-done swap.
      this.active.set(name, e);
      e.error = null;
      this.setStatus(e, 'ACTIVE', { error: null });
      this.emit({
        type: 'activated',
        name,
        version,
        device: e.lastPlacement ? deviceInfo(e.lastPlacement) : undefined,
        previousVersion: prev?.version,
      });
      if (prev) {
        prev.status = 'READY';
        if (prev.slot) this.retireSlot(prev, prev.slot, prevPinned);
      }
      if (opts.broadcast !== false) await this.publish({ type: 'activate', name, version, origin: this.processId });
      return this.info(e);
    });
  }

  /**
   * Undoes the latest activation of the active version still in effect: activates the version it
   * replaced. The history is in the store, so any process can roll back any activation; rolling
   * back again goes further back (v1 -> v2 -> v3, rollback: v2, rollback: v1).
   */
  async rollback(name: string, opts: { actorId?: string | null } = {}): Promise<ModelVersionInfo> {
    const current = this.activeVersion(name);
    const target = current ? await this.store.rollbackTarget(name, current) : null;
    if (!target)
      throw new RegistryError('CONFLICT', `model "${name}" has no previous active version to roll back to`, {
        field: 'name',
      });
    return this.activate(name, target.version, {
      actorId: opts.actorId,
      history: { kind: 'rollback', undo: target.activationId },
    });
  }

  /** Takes a version out of service (its session drains); unloading the active version leaves the model without one. */
  unload(name: string, version: string, opts: ChangeOptions = {}): Promise<ModelVersionInfo> {
    return this.withLock(name, async () => {
      const e = this.entry(name, version);
      if (this.active.get(name) === e) {
        if (opts.persist ?? opts.broadcast !== false) await this.store.setActive(name, null);
        this.active.delete(name);
        e.status = 'READY';
      }
      // Queued jobs that pinned it still run on it: the session is held until the last one ends.
      if (e.slot) this.retireSlot(e, e.slot, await this.pinsOf(e));
      else if (e.status !== 'DRAINING') this.setStatus(e, 'UNLOADED');
      if (opts.broadcast !== false) await this.publish({ type: 'unload', name, version, origin: this.processId });
      return this.info(e);
    });
  }

  /**
   * Re-places a version (default: the active one) on another device, live: the new session is
   * created, warmed and golden-checked beside the old, then swapped in; the old one drains.
   */
  setDevice(
    name: string,
    version: string | undefined,
    device: string,
    opts: { broadcast?: boolean } = {},
  ): Promise<ModelVersionInfo> {
    return this.withLock(name, async () => {
      if (version !== undefined) await this.loadFromStore(name, version);
      const e = version === undefined ? this.active.get(name) : this.entry(name, version);
      if (!e) throw new RegistryError('MODEL_UNAVAILABLE', `no active version of model "${name}"`, { field: 'name' });
      await this.replace(e, device);
      if (opts.broadcast !== false)
        await this.publish({ type: 'set_device', name, version: e.version, device, origin: this.processId });
      return this.info(e);
    });
  }

  /** New session on `device` swapped in for the current one (if any); failures change nothing. */
  private async replace(e: Entry, device: string | readonly string[]): Promise<void> {
    let slot: Slot;
    try {
      slot = await this.place(e, device);
    } catch (err) {
      this.fail(e, err);
      throw err;
    }
    const old = e.slot;
    e.slot = slot;
    e.requestedDevice = device;
    if (e.status !== 'ACTIVE') this.setStatus(e, 'READY');
    else this.setStatus(e, 'ACTIVE');
    this.emit({ type: 'loaded', name: e.name, version: e.version, device: deviceInfo(slot.placement) });
    if (old) this.retireSlot(e, old);
  }

  /**
   * Re-creates and warms the session of every loaded version on its device, here and (broadcast)
   * in every other process; returns this process's versions, each failed one with its `error`
   * (other processes report theirs as `failed` events). A failed version keeps its old session.
   */
  async regenerateCache(opts: { broadcast?: boolean } = {}): Promise<ModelVersionInfo[]> {
    const loaded = [...this.entries.values()].filter((e) => e.slot);
    const results: ModelVersionInfo[] = [];
    for (const e of loaded) {
      try {
        await this.withLock(e.name, () => this.replace(e, e.requestedDevice));
        e.error = null;
      } catch (err) {
        e.error = `cache regeneration failed: ${shortError(err, 500)}`;
      }
      results.push(this.info(e));
    }
    if (opts.broadcast !== false) await this.publish({ type: 'regenerate', origin: this.processId });
    return results;
  }

  // ---- across processes ----------------------------------------------------------------------

  private async publish(message: RegistryMessage): Promise<void> {
    await this.opts.bus?.publish(message).catch(() => undefined);
  }

  /** Applies a change broadcast by another process, loading the package from shared storage if needed. */
  private async applyMessage(msg: RegistryMessage): Promise<void> {
    if (msg.origin === this.processId) return;
    try {
      if (msg.type === 'unload' && !this.entries.has(key(msg.name, msg.version))) return;
      if (msg.type === 'activate') await this.activate(msg.name, msg.version, { broadcast: false });
      else if (msg.type === 'unload') await this.unload(msg.name, msg.version, { broadcast: false });
      else if (msg.type === 'set_device') await this.setDevice(msg.name, msg.version, msg.device, { broadcast: false });
      else await this.regenerateCache({ broadcast: false });
    } catch {
      // Already reported as a `failed` event; this process keeps its current version.
    }
  }

  /**
   * A version recorded in the store but not loaded here (uploaded to another process, or kept in
   * shared storage) is installed from its package folder, with every check; unknown versions are
   * left for the caller to report as NOT_FOUND.
   */
  private async loadFromStore(name: string, version: string): Promise<void> {
    if (this.entries.has(key(name, version))) return;
    const rec = await this.store.getVersion(name, version);
    if (rec) await this.install(rec.packageDir, { uploadedBy: rec.uploadedBy });
  }

  // ---- discovery, start and stop --------------------------------------------------------------

  /**
   * Validates and loads every new package folder under `dirs`. Failures are reported as
   * `failed` events and returned, never thrown. With `honourActivateFlag`, a version whose
   * manifest says `activate: true` is activated.
   */
  async discover(
    dirs: readonly string[],
    opts: { honourActivateFlag?: boolean } = {},
  ): Promise<{ loaded: ModelVersionInfo[]; failed: Array<{ path: string; error: RegistryError | Error }> }> {
    const loaded: ModelVersionInfo[] = [];
    const failed: Array<{ path: string; error: RegistryError | Error }> = [];
    const skip = resolve(this.opts.packagesDir, '.incoming');
    for (const dir of dirs) {
      for (const folder of await findPackageFolders(dir)) {
        if (this.knownFolders.has(folder) || folder.startsWith(skip)) continue;
        const sig = await folderSignature(folder);
        if (this.failedFolders.get(folder) === sig) continue;
        try {
          const existing = await this.alreadyInstalled(folder);
          if (existing) {
            this.knownFolders.add(folder);
            continue;
          }
          const info = await this.install(folder);
          this.knownFolders.add(folder);
          this.failedFolders.delete(folder);
          loaded.push(info);
          const e = this.entries.get(key(info.name, info.version))!;
          if (opts.honourActivateFlag && e.manifest.activate)
            loaded[loaded.length - 1] = await this.activate(info.name, info.version);
        } catch (err) {
          this.failedFolders.set(folder, sig);
          failed.push({ path: folder, error: err as Error });
        }
      }
    }
    return { loaded, failed };
  }

  /** A folder whose version is already loaded from that same folder (e.g. packagesDir seen again). */
  private async alreadyInstalled(folder: string): Promise<boolean> {
    const m = await readManifest(folder).catch(() => null);
    const e = m && this.entries.get(key(m.name, m.version));
    return !!e && resolve(e.dir) === resolve(folder);
  }

  /**
   * Start-up: loads the packages under `dirs` (plugins/, MODEL_DIR) and those kept in
   * packagesDir, activates the versions the store says are active (else the highest version
   * of each model), and listens to the bus.
   */
  async start(
    dirs: readonly string[],
  ): Promise<{ loaded: ModelVersionInfo[]; failed: Array<{ path: string; error: RegistryError | Error }> }> {
    const result = await this.discover([...dirs, this.opts.packagesDir]);
    const stored = new Map((await this.store.activeVersions()).map((a) => [a.name, a.version]));
    for (const name of new Set([...this.entries.values()].map((e) => e.name))) {
      if (this.active.has(name)) continue;
      const candidates = [...this.entries.values()]
        .filter((e) => e.name === name && e.slot)
        .sort((a, b) => compareSemver(b.version, a.version));
      const want = stored.get(name);
      const order = want
        ? [...candidates.filter((c) => c.version === want), ...candidates.filter((c) => c.version !== want)]
        : candidates;
      for (const c of order) {
        try {
          // The first process to start records its choice; a later one follows the stored pointer
          // and never overwrites it (e.g. when the stored version fails to load here).
          await this.activate(name, c.version, { broadcast: false, persist: want === undefined });
          break;
        } catch {
          // reported as `failed`; try the next version
        }
      }
    }
    if (this.opts.bus && !this.unsubscribe) {
      // Applied one at a time in the order received: "activate 2 then 1" must not end on 2 because loading 2 took longer.
      this.unsubscribe = await this.opts.bus.subscribe((msg) => {
        this.applying = this.applying.then(() => this.applyMessage(msg));
      });
    }
    return result;
  }

  /** MODEL_WATCH: polls `dirs` for new version folders (polling works on every file system). */
  watch(dirs: readonly string[], intervalMs = 2000): void {
    if (this.watchTimer) return;
    this.watchTimer = setInterval(() => {
      if (this.polling) return;
      // Failures of single folders are events; a failing scan (e.g. an unreadable folder) waits for the next tick.
      this.polling = this.discover(dirs, { honourActivateFlag: true })
        .catch(() => undefined)
        .finally(() => (this.polling = null));
    }, intervalMs);
    this.watchTimer.unref();
  }

  /** Runs one watch pass now (tests, or an admin "rescan"). */
  async rescan(
    dirs: readonly string[],
  ): Promise<{ loaded: ModelVersionInfo[]; failed: Array<{ path: string; error: RegistryError | Error }> }> {
    if (this.polling) await this.polling;
    return this.discover(dirs, { honourActivateFlag: true });
  }

  /** Stops watching and listening, and releases every session (shutdown: open leases are cut). */
  async close(): Promise<void> {
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.watchTimer = null;
    if (this.polling) await this.polling.catch(() => undefined);
    if (this.unsubscribe) await this.unsubscribe();
    this.unsubscribe = null;
    await this.applying;
    await Promise.all([...this.locks.values()]);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    await this.sweeping;
    this.held.clear();
    for (const e of this.entries.values()) {
      for (const s of [...(e.slot ? [e.slot] : []), ...e.draining]) {
        s.released = true;
        await s.session.release().catch(() => undefined);
      }
      e.slot = null;
      e.draining.clear();
    }
    this.active.clear();
  }

  /** Removes leftovers of interrupted uploads (call at start, before `start`). */
  async cleanIncoming(): Promise<void> {
    await rm(join(this.opts.packagesDir, '.incoming'), { recursive: true, force: true });
  }
}
