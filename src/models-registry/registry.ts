import { randomUUID } from 'node:crypto';
import { Catalogue, type ModelInfo, type ModelVersionInfo } from './catalogue/catalogue';
import { RegistryEvents, type RegistryEvent } from './catalogue/events';
import { Discovery, type DiscoveryResult } from './lifecycle/discovery';
import { Lifecycle, type ChangeOptions, type InstallOptions } from './lifecycle/lifecycle';
import { NameLocks } from '../infra/name-locks';
import type { ExtractLimits } from './package/extract';
import { Leases, type ModelLease, type PinSource } from './runtime/leases';
import type { RegistryMetrics } from './runtime/metrics';
import type { RegistryBus } from './sync/bus';
import { InMemoryRegistryStore, type ActivationHistory, type RegistryStore } from './sync/store';
import { RegistrySync } from './sync/sync';

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
  /** false: a catalogue without onnxruntime sessions, for a process that runs no models (API_LOAD_MODELS). */
  loadSessions?: boolean;
}

/**
 * The process-local model registry (docs/models.md): versions per model name, one active version
 * per name, sessions placed on devices, leases with reference counting, and hot swap. A facade
 * over its parts, each with its invariants:
 * - `Catalogue`: what versions exist (held here, or recorded in the store), their status.
 * - `Leases`: leases on sessions, draining, sessions held for queued jobs that pinned a version.
 * - `Lifecycle`: install, activate, rollback, unload, re-place, regenerate (one at a time per name).
 * - `RegistrySync`: changes announced to and applied from the other processes.
 * - `Discovery`: package folders found at start and by MODEL_WATCH.
 */
export class ModelRegistry {
  readonly processId: string;
  readonly store: RegistryStore;
  private readonly events = new RegistryEvents();
  private readonly catalogue: Catalogue;
  private readonly leases: Leases;
  private readonly lifecycle: Lifecycle;
  private readonly sync: RegistrySync;
  private readonly discovery: Discovery;
  private readonly locks = new NameLocks();

  constructor(private readonly opts: ModelRegistryOptions) {
    this.processId = opts.processId ?? randomUUID();
    this.store = opts.store ?? new InMemoryRegistryStore();
    this.catalogue = new Catalogue(this.store);
    const { events, locks, store, catalogue } = this;
    this.sync = new RegistrySync({ processId: this.processId, catalogue, bus: opts.bus });
    this.leases = new Leases({
      catalogue,
      events,
      locks,
      // A pinned job's version this process does not hold is installed from its package first.
      loadFromStore: (name, version) => this.lifecycle.loadFromStore(name, version),
      metrics: opts.metrics,
      pins: opts.pins,
      pinSweepMs: opts.pinSweepMs,
    });
    this.lifecycle = new Lifecycle({
      catalogue,
      events,
      locks,
      leases: this.leases,
      sync: this.sync,
      store,
      packagesDir: opts.packagesDir,
      limits: opts.limits,
      defaultDevice: opts.defaultDevice,
      loadSessions: opts.loadSessions,
    });
    this.discovery = new Discovery({
      catalogue,
      lifecycle: this.lifecycle,
      store,
      packagesDir: opts.packagesDir,
      loadSessions: opts.loadSessions,
    });
    opts.metrics?.bindSessionCounts(() => catalogue.sessionCounts());
  }

  /** Subscribes to registry events; returns the function that unsubscribes. */
  onEvent(listener: (e: RegistryEvent) => void): () => void {
    return this.events.on(listener);
  }

  /** The Prometheus metrics, if any (the batching layer reports queue time through them). */
  get metrics(): RegistryMetrics | undefined {
    return this.opts.metrics;
  }

  /** Where uploaded packages are kept (`<packagesDir>/<name>/<version>/`); `.incoming` holds uploads being checked. */
  get packagesDir(): string {
    return this.opts.packagesDir;
  }

  // ---- catalogue -----------------------------------------------------------------------------

  activeVersion(name: string): string | null {
    return this.catalogue.activeVersion(name);
  }

  list(): ModelInfo[] {
    return this.catalogue.list();
  }

  model(name: string): ModelInfo | null {
    return this.catalogue.model(name);
  }

  /** This process's models plus the versions only recorded in the store (`loaded: false`). */
  catalog(): Promise<ModelInfo[]> {
    return this.catalogue.catalog();
  }

  versionInfo(name: string, version: string): ModelVersionInfo | null {
    return this.catalogue.versionInfo(name, version);
  }

  /** Live sessions (current and draining) by actual device, for the metrics gauge. */
  sessionCounts(): Map<string, number> {
    return this.catalogue.sessionCounts();
  }

  // ---- leases ----------------------------------------------------------------------------------

  /** Where the registry learns which versions unfinished jobs pinned (the jobs layer, built after it). */
  usePins(source: PinSource): void {
    this.leases.usePins(source);
  }

  /** A lease on the active version (or the version named, if loaded); synchronous (see `Leases.acquire`). */
  acquire(name: string, version?: string): ModelLease {
    return this.leases.acquire(name, version);
  }

  /** The lease a queued job runs on (see `Leases.leaseForJob`). */
  leaseForJob(name: string, version: string, pinned: boolean): Promise<ModelLease> {
    return this.leases.leaseForJob(name, version, pinned);
  }

  /** Runs `fn` with a lease, releasing it however `fn` ends. */
  withModel<T>(name: string, version: string | undefined, fn: (lease: ModelLease) => Promise<T>): Promise<T> {
    return this.leases.withModel(name, version, fn);
  }

  /** Releases the sessions held for pinned jobs that no unfinished job pins any more. */
  recheckPins(): Promise<void> {
    return this.leases.recheckPins();
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  /** Validates and loads a package (folder or archive); see `Lifecycle.install`. */
  install(pathOrArchive: string, opts?: InstallOptions): Promise<ModelVersionInfo> {
    return this.lifecycle.install(pathOrArchive, opts);
  }

  /** Hot swap to `version`; on any failure the active version stays as it was. */
  activate(
    name: string,
    version: string,
    opts?: ChangeOptions & { history?: ActivationHistory },
  ): Promise<ModelVersionInfo> {
    return this.lifecycle.activate(name, version, opts);
  }

  /** Activates the version the latest activation still in effect replaced. */
  rollback(name: string, opts?: { actorId?: string | null }): Promise<ModelVersionInfo> {
    return this.lifecycle.rollback(name, opts);
  }

  unload(name: string, version: string, opts?: ChangeOptions): Promise<ModelVersionInfo> {
    return this.lifecycle.unload(name, version, opts);
  }

  /** Re-places a version (default: the active one) on another device, live. */
  setDevice(
    name: string,
    version: string | undefined,
    device: string,
    opts?: { broadcast?: boolean },
  ): Promise<ModelVersionInfo> {
    return this.lifecycle.setDevice(name, version, device, opts);
  }

  /** Re-creates and warms every loaded session, here and in every other process. */
  regenerateCache(opts?: { broadcast?: boolean }): Promise<ModelVersionInfo[]> {
    return this.lifecycle.regenerateCache(opts);
  }

  /** Removes leftovers of interrupted uploads (call at start, before `start`). */
  cleanIncoming(): Promise<void> {
    return this.lifecycle.cleanIncoming();
  }

  // ---- discovery, start and stop ---------------------------------------------------------------

  /** Validates and loads every new package folder under `dirs`; failures are returned, never thrown. */
  discover(dirs: readonly string[], opts?: { honourActivateFlag?: boolean }): Promise<DiscoveryResult> {
    return this.discovery.discover(dirs, opts);
  }

  /**
   * Start-up: loads the packages under `dirs` (plugins/, MODEL_DIR) and those kept in
   * packagesDir, activates the versions the store says are active (else the highest version
   * of each model), and listens to the bus.
   */
  async start(dirs: readonly string[]): Promise<DiscoveryResult> {
    const result = await this.discovery.start(dirs);
    await this.sync.listen(this.lifecycle);
    return result;
  }

  /** MODEL_WATCH: polls `dirs` for new version folders. */
  watch(dirs: readonly string[], intervalMs?: number): void {
    this.discovery.watch(dirs, intervalMs);
  }

  /** Runs one watch pass now (tests, or an admin "rescan"). */
  rescan(dirs: readonly string[]): Promise<DiscoveryResult> {
    return this.discovery.rescan(dirs);
  }

  /** Stops watching and listening, and releases every session (shutdown: open leases are cut). */
  async close(): Promise<void> {
    await this.discovery.close();
    await this.sync.close();
    await this.locks.idle();
    await this.leases.close();
  }
}
