import { existsSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Catalogue, ModelVersionInfo } from '../catalogue/catalogue';
import { deviceInfo, newSlot, type Entry, type Slot } from '../catalogue/entry';
import type { RegistryEvents } from '../catalogue/events';
import { RegistryError, shortError } from '../errors';
import type { ExtractLimits } from '../package/extract';
import { assertGoldenCases } from '../package/golden';
import { inspectPackage, movePackage, preparePackage, type PreparedPackage } from '../package/package';
import type { Leases } from '../runtime/leases';
import { placeVersion } from '../runtime/placement';
import type { Threads } from '../runtime/sessions';
import { StatsCounter } from '../runtime/stats';
import type { ActivationHistory, DeviceInfo, RegistryStore } from '../sync/store';
import type { ChangeTarget, RegistrySync } from '../sync/sync';
import type { NameLocks } from '../../infra/name-locks';

export interface InstallOptions {
  /** Activate once loaded (an upload's `activate` argument). */
  activate?: boolean;
  uploadedBy?: string | null;
  /** Overrides the manifest's `devices` (and the registry's defaultDevice). */
  device?: string | readonly string[];
  /** Overrides the manifest's `threads`. */
  threads?: Threads;
  /**
   * Throws the refusal of a package's name (an upload named like a classification ensemble): run once
   * the manifest is read, before any file or model check, and again just before the version is added.
   */
  checkName?: (name: string) => Promise<void>;
}

/**
 * Options of a change. `broadcast: false` applies it here only (a change another process
 * broadcast, or start-up). `persist` writes the active pointer to the store; by default only the
 * process that originates a change does, so followers never race the originator's writes.
 */
export interface ChangeOptions {
  broadcast?: boolean;
  persist?: boolean;
  /** The admin making the change (kept on the rollback history). */
  actorId?: string | null;
}

export interface LifecycleDeps {
  catalogue: Catalogue;
  events: RegistryEvents;
  locks: NameLocks;
  leases: Leases;
  sync: RegistrySync;
  store: RegistryStore;
  /** Where uploaded packages are kept: `<packagesDir>/<name>/<version>/`; `.incoming` holds uploads being checked. */
  packagesDir: string;
  limits?: ExtractLimits;
  /** Overrides every manifest's `devices`; per-version `setDevice` overrides this. */
  defaultDevice?: string;
  /**
   * false: this process runs no models (an api process whose jobs run on workers, API_LOAD_MODELS):
   * versions are catalogued (names, labels, task, the active pointer) without onnxruntime sessions.
   * Folders get the checks that need no session; uploads get every check, then their session goes.
   */
  loadSessions?: boolean;
}

/**
 * Changes which versions are loaded and active: install, activate (hot swap), rollback, unload,
 * re-place, regenerate. Mutations of one model name run one at a time; a failed one leaves the
 * active version as it was. Changes made here are announced to the other processes (`sync`).
 */
export class Lifecycle implements ChangeTarget {
  constructor(private readonly deps: LifecycleDeps) {}

  /**
   * Validates and loads a package (folder or archive). An archive is extracted under
   * `packagesDir/.incoming` and, once every check has passed, moved to
   * `packagesDir/<name>/<version>`; a folder is used where it is. A refused package leaves
   * nothing behind and changes nothing.
   */
  async install(pathOrArchive: string, opts: InstallOptions = {}): Promise<ModelVersionInfo> {
    const { catalogue, events, packagesDir } = this.deps;
    let prepared;
    const subject: { name: string | null; version: string | null } = { name: null, version: null };
    const t0 = performance.now();
    try {
      const folder = (await stat(pathOrArchive).catch(() => null))?.isDirectory() ? resolve(pathOrArchive) : null;
      const catalogueOnly = this.deps.loadSessions === false && folder !== null;
      prepared = await (catalogueOnly ? inspectPackage : preparePackage)(pathOrArchive, {
        limits: this.deps.limits,
        workDir: join(packagesDir, '.incoming'),
        exists: async (n, v, manifest) => {
          await opts.checkName?.(n);
          return this.versionExists(n, v, folder, manifest.files[manifest.modelFile]);
        },
        device: opts.device ?? this.deps.defaultDevice,
        threads: opts.threads,
        onManifest: (m) => Object.assign(subject, { name: m.name, version: m.version }),
      });
    } catch (err) {
      events.failed(subject, err);
      throw err;
    }
    const m = prepared.manifest;
    let dir = prepared.opened.root;
    try {
      // A concurrent install of the same version may have finished while this one was checked.
      if (catalogue.has(m.name, m.version)) throw versionExists(`${m.name}@${m.version} already exists`);
      // Or the name taken meanwhile (an ensemble created while the model was checked).
      await opts.checkName?.(m.name);
      if (prepared.opened.tempDir) {
        dir = resolve(packagesDir, m.name, m.version);
        if (existsSync(dir)) throw versionExists(`${m.name}@${m.version} is already stored`);
        await movePackage(prepared.opened.root, dir);
        await prepared.opened.cleanup();
      }
    } catch (err) {
      await prepared.discard();
      events.failed(m, err);
      throw err;
    }
    const checked = 'session' in prepared ? (prepared as PreparedPackage) : null;
    // Checked with its session (an upload), but this process runs no models: the session goes now.
    if (checked && this.deps.loadSessions === false) await checked.session.release().catch(() => undefined);
    const kept = this.deps.loadSessions === false ? null : checked;
    const e: Entry = {
      name: m.name,
      version: m.version,
      manifest: m,
      dir,
      modelSha256: prepared.modelSha256,
      status: 'READY',
      slot: kept ? newSlot(kept.session, kept.placement, performance.now() - t0) : null,
      draining: new Set(),
      requestedDevice: opts.device ?? this.deps.defaultDevice ?? m.devices,
      threads: opts.threads ?? m.threads,
      stats: new StatsCounter(),
      lastPlacement: kept?.placement ?? null,
      error: null,
      uploadedBy: opts.uploadedBy ?? null,
      createdAt: new Date(),
    };
    catalogue.add(e);
    const device = checked ? deviceInfo(checked.placement) : null;
    await this.record(e, device);
    if (kept && device?.fallbackReason)
      events.emit({ type: 'fell_back', name: e.name, version: e.version, device, message: device.fallbackReason });
    if (kept) events.emit({ type: 'loaded', name: e.name, version: e.version, device: device! });
    if (opts.activate) return this.activate(e.name, e.version, { actorId: opts.uploadedBy });
    return catalogue.info(e);
  }

  /**
   * Records a new version in the store. One the store already holds (seen again) keeps its row, with
   * this folder as its place when the folder it names is gone (the installation moved), so that
   * another process loading it from the store finds its files.
   */
  private async record(e: Entry, device: DeviceInfo | null): Promise<void> {
    const { store } = this.deps;
    const held = await store.getVersion(e.name, e.version).catch(() => null);
    if (held) {
      if (resolve(held.packageDir) !== resolve(e.dir) && !existsSync(held.packageDir))
        await store.recordVersion({ ...held, packageDir: e.dir }).catch(() => undefined);
      return;
    }
    await store
      .recordVersion({
        name: e.name,
        version: e.version,
        task: e.manifest.task,
        modelSha256: e.modelSha256,
        packageDir: e.dir,
        status: 'READY',
        device,
        uploadedBy: e.uploadedBy,
        createdAt: e.createdAt,
        loadedAt: e.slot?.loadedAt ?? null,
        error: null,
      })
      .catch(() => undefined);
  }

  /**
   * Whether name@version is taken. A version the store knows from the same folder is not a
   * conflict: it is the same package seen again (another process, or a restart). Nor is one the
   * store knows with the same model file from another folder: the same package where an
   * installation now keeps it (a release deployed to a new directory over the same database). A
   * different model under a version the store knows stays a conflict, and so does any upload.
   */
  private async versionExists(
    name: string,
    version: string,
    folder: string | null,
    modelSha256: string | undefined,
  ): Promise<boolean> {
    if (this.deps.catalogue.has(name, version)) return true;
    const rec = await this.deps.store.getVersion(name, version);
    if (!rec) return false;
    if (!folder) return true;
    return !(resolve(rec.packageDir).startsWith(folder) || rec.modelSha256 === modelSha256);
  }

  /**
   * A version recorded in the store but not loaded here (uploaded to another process, or kept in
   * shared storage) is installed from its package folder, with every check; unknown versions are
   * left for the caller to report as NOT_FOUND.
   */
  async loadFromStore(name: string, version: string): Promise<void> {
    if (this.deps.catalogue.has(name, version)) return;
    const rec = await this.deps.store.getVersion(name, version);
    if (rec) await this.install(rec.packageDir, { uploadedBy: rec.uploadedBy });
  }

  /** Removes leftovers of interrupted uploads (at start, before anything is installed). */
  async cleanIncoming(): Promise<void> {
    await rm(join(this.deps.packagesDir, '.incoming'), { recursive: true, force: true });
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
    const { catalogue, events, leases } = this.deps;
    return this.deps.locks.run(name, async () => {
      await this.loadFromStore(name, version);
      const e = catalogue.require(name, version);
      const prev = catalogue.activeEntry(name) ?? null;
      if (prev === e) return catalogue.info(e);
      const statusBefore = e.status;
      let created: Slot | null = null;
      // A session kept for pinned jobs serves again rather than loading the same file twice.
      const adopted = e.slot ? null : leases.adoptHeld(e);
      try {
        if (this.deps.loadSessions === false) {
          // Nothing to load or check here: the processes that run the model do both on this change.
        } else if (!e.slot) {
          catalogue.setStatus(e, 'LOADING');
          created = await placeVersion(e, e.requestedDevice, events);
          e.slot = created;
        } else {
          await assertGoldenCases(e.slot.session, e.manifest, e.dir, e.slot.placement.actual);
        }
        if (opts.persist ?? opts.broadcast !== false) {
          await this.deps.store.setActive(
            name,
            version,
            opts.history ?? { kind: 'activate', previous: prev?.version ?? null, actorId: opts.actorId },
          );
        }
      } catch (err) {
        if (created) {
          e.slot = null;
          leases.release(e, created);
        } else if (adopted) {
          leases.retire(e, adopted, await leases.pinsOf(e));
        }
        e.error = shortError(err, 500);
        // A version whose (re)load failed is FAILED until a later activation loads it; one that
        // was loaded and failed its golden re-run keeps its session and status, with the error.
        catalogue.setStatus(e, created || !e.slot ? (e.draining.size ? 'DRAINING' : 'FAILED') : statusBefore, {
          error: e.error,
        });
        events.failed(e, err);
        throw err;
      }
      // Read before the switch so the switch itself stays synchronous.
      const prevPinned = prev?.slot ? await leases.pinsOf(prev) : 0;
      catalogue.setActive(name, e);
      e.error = null;
      catalogue.setStatus(e, 'ACTIVE', { error: null });
      events.emit({
        type: 'activated',
        name,
        version,
        device: e.lastPlacement ? deviceInfo(e.lastPlacement) : undefined,
        previousVersion: prev?.version,
      });
      if (prev) {
        prev.status = 'READY';
        if (prev.slot) leases.retire(prev, prev.slot, prevPinned);
      }
      if (opts.broadcast !== false) await this.deps.sync.publish({ type: 'activate', name, version });
      return catalogue.info(e);
    });
  }

  /**
   * Undoes the latest activation of the active version still in effect: activates the version it
   * replaced. The history is in the store, so any process can roll back any activation; rolling
   * back again goes further back (v1 -> v2 -> v3, rollback: v2, rollback: v1).
   */
  async rollback(name: string, opts: { actorId?: string | null } = {}): Promise<ModelVersionInfo> {
    const current = this.deps.catalogue.activeVersion(name);
    const target = current ? await this.deps.store.rollbackTarget(name, current) : null;
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
    const { catalogue, leases } = this.deps;
    return this.deps.locks.run(name, async () => {
      const e = catalogue.require(name, version);
      if (catalogue.activeEntry(name) === e) {
        if (opts.persist ?? opts.broadcast !== false) await this.deps.store.setActive(name, null);
        catalogue.clearActive(name);
        e.status = 'READY';
      }
      // Queued jobs that pinned it still run on it: the session is held until the last one ends.
      if (e.slot) leases.retire(e, e.slot, await leases.pinsOf(e));
      else if (e.status !== 'DRAINING') catalogue.setStatus(e, 'UNLOADED');
      if (opts.broadcast !== false) await this.deps.sync.publish({ type: 'unload', name, version });
      return catalogue.info(e);
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
    const { catalogue } = this.deps;
    return this.deps.locks.run(name, async () => {
      if (version !== undefined) await this.loadFromStore(name, version);
      const e = version === undefined ? catalogue.activeEntry(name) : catalogue.require(name, version);
      if (!e) throw new RegistryError('MODEL_UNAVAILABLE', `no active version of model "${name}"`, { field: 'name' });
      await this.replace(e, device);
      if (opts.broadcast !== false)
        await this.deps.sync.publish({ type: 'set_device', name, version: e.version, device });
      return catalogue.info(e);
    });
  }

  /** New session on `device` swapped in for the current one (if any); failures change nothing. */
  private async replace(e: Entry, device: string | readonly string[]): Promise<void> {
    const { catalogue, events } = this.deps;
    if (this.deps.loadSessions === false) {
      e.requestedDevice = device; // placed by the processes that run the model
      return;
    }
    let slot: Slot;
    try {
      slot = await placeVersion(e, device, events);
    } catch (err) {
      events.failed(e, err);
      throw err;
    }
    const old = e.slot;
    e.slot = slot;
    e.requestedDevice = device;
    catalogue.setStatus(e, e.status === 'ACTIVE' ? 'ACTIVE' : 'READY');
    events.emit({ type: 'loaded', name: e.name, version: e.version, device: deviceInfo(slot.placement) });
    if (old) this.deps.leases.retire(e, old);
  }

  /**
   * Re-creates and warms the session of every loaded version on its device, here and (broadcast)
   * in every other process; returns this process's versions, each failed one with its `error`
   * (other processes report theirs as `failed` events). A failed version keeps its old session.
   */
  async regenerateCache(opts: { broadcast?: boolean } = {}): Promise<ModelVersionInfo[]> {
    const results: ModelVersionInfo[] = [];
    for (const e of this.deps.catalogue.all().filter((x) => x.slot)) {
      try {
        await this.deps.locks.run(e.name, () => this.replace(e, e.requestedDevice));
        e.error = null;
      } catch (err) {
        e.error = `cache regeneration failed: ${shortError(err, 500)}`;
      }
      results.push(this.deps.catalogue.info(e));
    }
    if (opts.broadcast !== false) await this.deps.sync.publish({ type: 'regenerate' });
    return results;
  }
}

const versionExists = (what: string) =>
  new RegistryError('CONFLICT', `version.exists: ${what}`, { check: 'version.exists', field: 'version' });
