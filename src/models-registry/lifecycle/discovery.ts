import { resolve } from 'node:path';
import type { Catalogue, ModelVersionInfo } from '../catalogue/catalogue';
import type { RegistryError } from '../errors';
import { findPackageFolders, folderSignature } from '../package/folders';
import { readManifest } from '../package/package';
import type { RegistryStore } from '../sync/store';
import type { Lifecycle } from './lifecycle';

export interface DiscoveryResult {
  loaded: ModelVersionInfo[];
  failed: Array<{ path: string; error: RegistryError | Error }>;
}

/**
 * Finds package folders (the shipped plugins/, MODEL_DIR, packagesDir) and installs the new
 * ones: at start, where it also picks each model's active version, and on every MODEL_WATCH poll.
 * A folder that failed is tried again only once its files change.
 */
export class Discovery {
  /** Folders installed from, and folders that failed with their content signature. */
  private readonly knownFolders = new Set<string>();
  private readonly failedFolders = new Map<string, string>();
  private watchTimer: NodeJS.Timeout | null = null;
  private polling: Promise<unknown> | null = null;

  constructor(
    private readonly deps: {
      catalogue: Catalogue;
      lifecycle: Lifecycle;
      store: RegistryStore;
      packagesDir: string;
      /** false: versions are catalogued without sessions (see LifecycleDeps.loadSessions). */
      loadSessions?: boolean;
    },
  ) {}

  /**
   * Validates and loads every new package folder under `dirs`. Failures are reported as
   * `failed` events and returned, never thrown. With `honourActivateFlag`, a version whose
   * manifest says `activate: true` is activated.
   */
  async discover(dirs: readonly string[], opts: { honourActivateFlag?: boolean } = {}): Promise<DiscoveryResult> {
    const { catalogue, lifecycle } = this.deps;
    const result: DiscoveryResult = { loaded: [], failed: [] };
    const skip = resolve(this.deps.packagesDir, '.incoming');
    for (const dir of dirs) {
      for (const folder of await findPackageFolders(dir)) {
        if (this.knownFolders.has(folder) || folder.startsWith(skip)) continue;
        const sig = await folderSignature(folder);
        if (this.failedFolders.get(folder) === sig) continue;
        try {
          if (await this.alreadyInstalled(folder)) {
            this.knownFolders.add(folder);
            continue;
          }
          let info = await lifecycle.install(folder);
          this.knownFolders.add(folder);
          this.failedFolders.delete(folder);
          result.loaded.push(info);
          if (opts.honourActivateFlag && catalogue.get(info.name, info.version)?.manifest.activate) {
            info = await lifecycle.activate(info.name, info.version);
            result.loaded[result.loaded.length - 1] = info;
          }
        } catch (err) {
          this.failedFolders.set(folder, sig);
          result.failed.push({ path: folder, error: err as Error });
        }
      }
    }
    return result;
  }

  /** A folder whose version is already loaded from that same folder (e.g. packagesDir seen again). */
  private async alreadyInstalled(folder: string): Promise<boolean> {
    const m = await readManifest(folder).catch(() => null);
    const e = m && this.deps.catalogue.get(m.name, m.version);
    return !!e && resolve(e.dir) === resolve(folder);
  }

  /**
   * Start-up: loads the packages under `dirs` (plugins/, MODEL_DIR) and those kept in
   * packagesDir, then activates the versions the store says are active (else the highest version
   * of each model).
   */
  async start(dirs: readonly string[]): Promise<DiscoveryResult> {
    const result = await this.discover([...dirs, this.deps.packagesDir]);
    const stored = new Map((await this.deps.store.activeVersions()).map((a) => [a.name, a.version]));
    for (const name of this.deps.catalogue.names()) await this.activateAtStart(name, stored.get(name));
    return result;
  }

  /** Activates the stored version of `name` (`want`), else the highest that loads; none when it has an active one. */
  private async activateAtStart(name: string, want: string | undefined): Promise<void> {
    const { catalogue, lifecycle } = this.deps;
    if (catalogue.activeEntry(name)) return;
    const loads = this.deps.loadSessions !== false;
    const candidates = catalogue.versionsOf(name).filter((e) => e.slot || !loads);
    const order = want
      ? [...candidates.filter((c) => c.version === want), ...candidates.filter((c) => c.version !== want)]
      : candidates;
    for (const c of order) {
      try {
        // The first process to start records its choice; a later one follows the stored pointer
        // and never overwrites it (e.g. when the stored version fails to load here).
        // A process that loads nothing has not seen the version run: it never records a choice.
        await lifecycle.activate(name, c.version, { broadcast: false, persist: want === undefined && loads });
        return;
      } catch {
        // reported as `failed`; try the next version
      }
    }
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
  async rescan(dirs: readonly string[]): Promise<DiscoveryResult> {
    if (this.polling) await this.polling;
    return this.discover(dirs, { honourActivateFlag: true });
  }

  /** Stops watching, once a poll under way has ended. */
  async close(): Promise<void> {
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.watchTimer = null;
    if (this.polling) await this.polling.catch(() => undefined);
  }
}
