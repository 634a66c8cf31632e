import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { createSession, deviceChain, shortError, type ModelLease, type ModelRegistry } from '../../../models-registry';
import type { DeviceInfo, ModelSession } from '../../../models-registry';
import { loadGradCamHead } from '../../../inference/gradcam';
import type { HeadPlan } from '../../../inference/onnx-head';

/**
 * An ensemble member as stored in a job's request. `version` is the version the api resolved
 * when it queued the job; `pinned` says the caller named it. A pinned member runs on exactly that
 * version; an unpinned one on the version active when the job starts (or, when the model has no
 * active version then, on the one it was queued with). Rows written before `pinned` existed
 * named their version either way: they count as pinned.
 */
export interface MemberSpec {
  model: string;
  version: string;
  pinned?: boolean;
  /** Normalised weight. */
  weight: number;
  /** Device this member asked for; null = wherever the registry placed the version. */
  device: string | null;
}

export const isPinned = (s: MemberSpec) => s.pinned !== false;

/**
 * A member ready to run: a registry lease (which keeps the version's session for the whole job,
 * so a hot swap or unload lets it finish on the version it began with) and the session to run on,
 * which is the registry's own or, when the member asked for another device that can start here,
 * a session of the same file placed on that device.
 */
export interface MemberRun {
  /** The member with the version it actually runs on. */
  spec: MemberSpec;
  lease: ModelLease;
  /** A lease-shaped runner on the session used (the registry's, or the member's own device). */
  runner: ModelLease;
  device: DeviceInfo;
  /** Ends the lease and the use of the member's own session (idempotent). */
  release(): void;
}

/** Most sessions kept beyond the registry's own, over all versions and devices (least recently used idle ones go first). */
export const MAX_DEVICE_SESSIONS = 8;
/** Most remembered devices that could not start (one entry per version and device string). */
const MAX_REMEMBERED_FAILURES = 256;

interface DeviceSession {
  session: ModelSession;
  device: DeviceInfo;
  users: number;
}

/**
 * Sessions placed on the devices members ask for, beside the registry's placement of each
 * version. Bounded: a device that cannot start here is tried once per version and remembered,
 * and a request that falls back lands on the registry's own session when that is where the
 * fallback goes (so `cuda:0` ... `cuda:99` on a machine without CUDA open no session at all);
 * at most MAX_DEVICE_SESSIONS sessions live at once, idle ones evicted first.
 */
export class MemberSessions {
  /** name@version@device -> session on exactly that device; Map order is recency of use. */
  private readonly sessions = new Map<string, Promise<DeviceSession>>();
  /** name@version@device -> why that device could not start. */
  private readonly failures = new Map<string, string>();
  private readonly heads = new Map<string, Promise<HeadPlan>>();
  private readonly unsubscribe: () => void;

  constructor(private readonly registry: ModelRegistry) {
    // A version unloaded from the registry drops its extra sessions (jobs using them hold the session object).
    this.unsubscribe = registry.onEvent((e) => {
      if (e.type !== 'unloaded' || !e.name || !e.version) return;
      const prefix = `${e.name}@${e.version}@`;
      for (const [k, p] of this.sessions) {
        if (k.startsWith(prefix)) {
          this.sessions.delete(k);
          void p.then((s) => s.session.release()).catch(() => undefined);
        }
      }
    });
  }

  /** Leases the member's version (see MemberSpec) and, if it asked for another device than the registry's placement, a session there. */
  async open(spec: MemberSpec): Promise<MemberRun> {
    const lease = await this.registry.leaseForJob(spec.model, spec.version, isPinned(spec));
    const resolved = { ...spec, version: lease.version };
    try {
      const own =
        spec.device && spec.device !== lease.device.requested && spec.device !== lease.device.actual
          ? await this.onDevice(lease, spec.device)
          : null;
      if (!own || 'fallbackReason' in own) {
        const device = own
          ? { requested: spec.device!, actual: lease.device.actual, fallbackReason: own.fallbackReason }
          : lease.device;
        return { spec: resolved, lease, runner: lease, device, release: () => lease.release() };
      }
      let done = false;
      const runner: ModelLease = {
        ...lease,
        session: own.session,
        device: own.device,
        run: (feeds, fetches) => own.session.run(feeds, fetches ?? lease.manifest.outputs.map((o) => o.name)),
        release: () => undefined,
      };
      const release = () => {
        if (done) return;
        done = true;
        own.users--;
        lease.release();
      };
      return { spec: resolved, lease, runner, device: own.device, release };
    } catch (e) {
      lease.release();
      throw e;
    }
  }

  /**
   * A session on the first device of `device`'s chain that starts here, tried only down to the
   * registry's own device (where the chain's last resort is that session): the session (one
   * more user counted), or why none started and the registry's session is used instead.
   */
  private async onDevice(lease: ModelLease, device: string): Promise<DeviceSession | { fallbackReason: string }> {
    const reasons: string[] = [];
    for (const dev of deviceChain(device)) {
      if (dev === lease.device.actual) break;
      const k = `${lease.name}@${lease.version}@${dev}`;
      const failed = this.failures.get(k);
      if (failed) {
        reasons.push(`${dev}: ${failed}`);
        continue;
      }
      const existing = this.sessions.get(k);
      if (existing) {
        this.sessions.delete(k); // re-inserted: most recently used
        this.sessions.set(k, existing);
        const s = await existing.catch(() => null);
        if (s) {
          s.users++;
          return s;
        }
        reasons.push(`${dev}: ${this.failures.get(k) ?? 'could not start'}`);
        continue;
      }
      if (!(await this.makeRoom())) {
        reasons.push(`${dev}: ${MAX_DEVICE_SESSIONS} device sessions are in use`);
        break;
      }
      const info = this.registry.versionInfo(lease.name, lease.version);
      const path = join(info!.packageDir, lease.manifest.modelFile);
      const created = createSession(path, dev, lease.manifest.threads, { exact: true }).then(
        ({ session, placement }) => ({
          session,
          device: {
            requested: device,
            actual: placement.actual,
            fallbackReason: reasons.length ? reasons.join('; ') : null,
          },
          users: 0,
        }),
      );
      this.sessions.set(k, created);
      try {
        const s = await created;
        s.users++;
        return s;
      } catch (e) {
        this.sessions.delete(k);
        this.remember(k, shortError(e).replace(/^onnx\.load: /, ''));
        reasons.push(`${dev}: ${this.failures.get(k)}`);
      }
    }
    return { fallbackReason: reasons.join('; ') || `${device}: not available` };
  }

  /** Frees a slot for one more session (evicting the least recently used idle one); false when all are busy. */
  private async makeRoom(): Promise<boolean> {
    if (this.sessions.size < MAX_DEVICE_SESSIONS) return true;
    for (const [k, p] of this.sessions) {
      const s = await p.catch(() => null);
      if (s && s.users > 0) continue;
      this.sessions.delete(k);
      if (s) void s.session.release().catch(() => undefined);
      return true;
    }
    return false;
  }

  private remember(k: string, reason: string): void {
    if (this.failures.size >= MAX_REMEMBERED_FAILURES) this.failures.delete(this.failures.keys().next().value!);
    this.failures.set(k, reason);
  }

  /** Sessions kept beyond the registry's own (for tests and metrics). */
  deviceSessionCount(): number {
    return this.sessions.size;
  }

  /** The Grad-CAM head of a version, parsed from its ONNX file once. */
  headPlan(lease: ModelLease): Promise<HeadPlan> {
    const key = `${lease.name}@${lease.version}`;
    let p = this.heads.get(key);
    if (!p) {
      const m = lease.manifest;
      const features = m.outputs.find((o) => o.role === 'gradcam_features')?.name;
      const logits = m.outputs.find((o) => o.role === 'logits')?.name;
      const info = this.registry.versionInfo(lease.name, lease.version);
      p =
        features && logits && info
          ? readFile(join(info.packageDir, m.modelFile)).then((bytes) => loadGradCamHead(bytes, features, logits))
          : Promise.resolve({ differentiable: false as const, reason: 'the model exposes no logits and feature map' });
      p.catch(() => this.heads.delete(key));
      this.heads.set(key, p);
    }
    return p;
  }

  async close(): Promise<void> {
    this.unsubscribe();
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.allSettled(all.map((p) => p.then((s) => s.session.release())));
  }
}
