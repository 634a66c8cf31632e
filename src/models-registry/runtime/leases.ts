import type * as ort from 'onnxruntime-node';
import type { Catalogue } from '../catalogue/catalogue';
import { deviceInfo, liveSlots, type Entry, type Slot } from '../catalogue/entry';
import type { RegistryEvents } from '../catalogue/events';
import { RegistryError } from '../errors';
import type { NameLocks } from '../../infra/name-locks';
import type { Manifest } from '../package/manifest';
import type { DeviceInfo } from '../sync/store';
import type { RegistryMetrics } from './metrics';
import { placeVersion } from './placement';
import type { ModelSession } from './threaded-session';

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

/** How many unfinished jobs, in any process, pinned `name@version` (they must run on it). */
export type PinSource = (name: string, version: string) => Promise<number>;

export interface LeasesDeps {
  catalogue: Catalogue;
  events: RegistryEvents;
  /** The lifecycle's per-name locks: loading a version for a job is a mutation like the others. */
  locks: NameLocks;
  /** Installs a version recorded in the store that this process does not hold (the lifecycle's). */
  loadFromStore: (name: string, version: string) => Promise<void>;
  metrics?: RegistryMetrics;
  /** Unfinished jobs that pinned a version; see `usePins`. Without it, none. */
  pins?: PinSource;
  /** How often held sessions are checked for jobs still pinning them (ms). */
  pinSweepMs?: number;
}

/**
 * Leases on the versions' sessions, with reference counting, and the end of a session's service:
 * - `acquire` is synchronous, so a request gets exactly the version active at the instant it
 *   began, and keeps that session until it releases the lease.
 * - A retired session (swapped out, re-placed, unloaded) drains: it is released when its last
 *   lease ends, or, while unfinished jobs pinned its version (`PinSource`), it is held until the
 *   pin sweep finds none left.
 * - A job that pinned a version always gets it (`leaseForJob`): a version this process does not
 *   hold is loaded again from its package, and kept only while pinned jobs need it.
 */
export class Leases {
  /** Retired slots kept while unfinished jobs pin their version (released by the pin sweep, not their last lease). */
  private readonly held = new Map<Slot, Entry>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;
  private sweepAgain = false;
  private pins: PinSource;

  constructor(private readonly deps: LeasesDeps) {
    this.pins = deps.pins ?? (async () => 0);
  }

  /** Where the registry learns which versions unfinished jobs pinned (the jobs layer, built after it). */
  usePins(source: PinSource): void {
    this.pins = source;
  }

  /**
   * A lease on the active version (or the version named, if it is loaded). Synchronous on
   * purpose: nothing can swap the version between the look-up and the reference count.
   */
  acquire(name: string, version?: string): ModelLease {
    const { catalogue } = this.deps;
    const e = version === undefined ? catalogue.activeEntry(name) : catalogue.get(name, version);
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
    const { catalogue, events } = this.deps;
    if (!pinned) {
      const active = catalogue.activeEntry(name);
      if (active?.slot) return this.lease(active, active.slot);
    }
    const ready = this.usableSlot(name, version);
    if (ready) return ready;
    return this.deps.locks.run(name, async () => {
      const again = this.usableSlot(name, version);
      if (again) return again;
      await this.deps.loadFromStore(name, version);
      const e = catalogue.require(name, version);
      if (e.slot) return this.lease(e, e.slot);
      const slot = await placeVersion(e, e.requestedDevice, events);
      slot.retired = true;
      this.hold(e, slot);
      catalogue.setStatus(e, 'DRAINING');
      events.emit({
        type: 'loaded',
        name,
        version,
        device: deviceInfo(slot.placement),
        message: 'loaded again for queued jobs that pinned this version',
      });
      return this.lease(e, slot);
    });
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

  /** A lease on a live session of name@version (its own, or a swapped-out one not released yet), or null. */
  private usableSlot(name: string, version: string): ModelLease | null {
    const e = this.deps.catalogue.get(name, version);
    if (!e) return null;
    const slot = e.slot ?? [...e.draining].find((d) => !d.released);
    return slot ? this.lease(e, slot) : null;
  }

  private lease(e: Entry, slot: Slot): ModelLease {
    slot.leases++;
    let released = false;
    const metrics = this.deps.metrics;
    return {
      name: e.name,
      version: e.version,
      manifest: e.manifest,
      device: deviceInfo(slot.placement),
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
        if (slot.retired && !this.held.has(slot) && slot.leases === 0) this.release(e, slot);
      },
    };
  }

  // ---- retiring sessions -----------------------------------------------------------------------

  /**
   * Takes a slot out of service: released now if idle, else when its last lease ends; with
   * `pinned` (unfinished jobs pinned its version), held until the pin sweep finds none left.
   */
  retire(e: Entry, slot: Slot, pinned = 0): void {
    slot.retired = true;
    if (e.slot === slot) e.slot = null;
    if (pinned > 0) this.hold(e, slot);
    else if (slot.leases === 0) return this.release(e, slot);
    else e.draining.add(slot);
    if (!e.slot) this.deps.catalogue.setStatus(e, 'DRAINING');
    const waiting = [
      slot.leases ? `${slot.leases} request(s) still running` : '',
      pinned ? `${pinned} queued job(s) pinned this version` : '',
    ]
      .filter(Boolean)
      .join('; ');
    this.deps.events.emit({
      type: 'draining',
      name: e.name,
      version: e.version,
      device: deviceInfo(slot.placement),
      message: waiting,
    });
  }

  /** Ends a session (once); a version left with none and not active becomes UNLOADED. */
  release(e: Entry, slot: Slot): void {
    if (slot.released) return;
    slot.released = true;
    e.draining.delete(slot);
    this.held.delete(slot);
    void slot.session.release().catch(() => undefined);
    if (!e.slot && e.draining.size === 0 && (e.status === 'DRAINING' || e.status === 'READY')) {
      this.deps.catalogue.setStatus(e, 'UNLOADED');
      this.deps.events.emit({ type: 'unloaded', name: e.name, version: e.version, device: deviceInfo(slot.placement) });
    }
  }

  /**
   * Puts a session held for pinned jobs back into service as the version's own (an activation
   * reuses it rather than loading the same file twice); null when none is held.
   */
  adoptHeld(e: Entry): Slot | null {
    const adopted = [...e.draining].find((d) => this.held.has(d) && !d.released) ?? null;
    if (adopted) {
      this.held.delete(adopted);
      e.draining.delete(adopted);
      adopted.retired = false;
      e.slot = adopted;
    }
    return adopted;
  }

  // ---- pins ------------------------------------------------------------------------------------

  /** Unfinished jobs that pinned the version of `e` (0 when that cannot be read: the sweep retries). */
  pinsOf(e: Entry): Promise<number> {
    return this.pins(e.name, e.version).catch(() => 0);
  }

  private hold(e: Entry, slot: Slot): void {
    e.draining.add(slot);
    this.held.set(slot, e);
    if (!this.sweepTimer) {
      this.sweepTimer = setInterval(() => void this.recheckPins(), this.deps.pinSweepMs ?? 2000);
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
            this.release(e, slot);
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

  /** Shutdown: stops the pin sweep and releases every session (open leases are cut); no version stays active. */
  async close(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    await this.sweeping;
    this.held.clear();
    for (const e of this.deps.catalogue.all()) {
      for (const s of liveSlots(e)) {
        s.released = true;
        await s.session.release().catch(() => undefined);
      }
      e.slot = null;
      e.draining.clear();
    }
    this.deps.catalogue.clearActive();
  }
}
