import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import type * as ort from 'onnxruntime-node';
import { createSession, type ModelLease, type ModelRegistry } from '../models-registry';
import type { DeviceInfo, ModelSession } from '../models-registry';
import { loadGradCamHead } from '../inference/gradcam';
import type { HeadPlan } from '../inference/onnx-head';

/** An ensemble member as stored in a job's request: the version is fixed when the job is created. */
export interface MemberSpec {
  model: string;
  version: string;
  /** Normalised weight. */
  weight: number;
  /** Device this member asked for; null = wherever the registry placed the version. */
  device: string | null;
}

/**
 * A member ready to run: a registry lease (which pins the version for the whole job, so a hot
 * swap or unload lets it finish on the version it began with) and the session to run on, which
 * is the registry's own or, when the member asked for another device, a session of the same
 * file placed on that device (created once and kept while the version lives).
 */
export interface MemberRun {
  spec: MemberSpec;
  lease: ModelLease;
  /** A lease-shaped runner on the session used (the registry's, or the member's own device). */
  runner: ModelLease;
  device: DeviceInfo;
}

/** Sessions placed on a member's requested device, per name@version@device. */
export class MemberSessions {
  private readonly sessions = new Map<string, Promise<{ session: ModelSession; device: DeviceInfo }>>();
  private readonly heads = new Map<string, Promise<HeadPlan>>();
  private readonly unsubscribe: () => void;

  constructor(private readonly registry: ModelRegistry) {
    // A version unloaded from the registry drops its extra sessions once jobs using them finish (their
    // runners hold the session object; onnxruntime frees it when released).
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

  /** Acquires the member's version and, if it asked for another device than the registry's placement, its own session there. */
  async open(spec: MemberSpec): Promise<MemberRun> {
    const lease = this.registry.acquire(spec.model, spec.version);
    try {
      if (!spec.device || spec.device === lease.device.requested || spec.device === lease.device.actual) {
        return { spec, lease, runner: lease, device: lease.device };
      }
      const { session, device } = await this.sessionOn(lease, spec.device);
      const runner: ModelLease = {
        ...lease,
        session,
        device,
        run: (feeds, fetches) => session.run(feeds, fetches ?? lease.manifest.outputs.map((o) => o.name)),
        release: () => undefined,
      };
      return { spec, lease, runner, device };
    } catch (e) {
      lease.release();
      throw e;
    }
  }

  private sessionOn(lease: ModelLease, device: string) {
    const key = `${lease.name}@${lease.version}@${device}`;
    let p = this.sessions.get(key);
    if (!p) {
      const info = this.registry.versionInfo(lease.name, lease.version);
      const path = join(info!.packageDir, lease.manifest.modelFile);
      p = createSession(path, device, lease.manifest.threads).then(({ session, placement }) => ({
        session,
        device: { requested: placement.requested, actual: placement.actual, fallbackReason: placement.fallbackReason },
      }));
      p.catch(() => this.sessions.delete(key));
      this.sessions.set(key, p);
    }
    return p;
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
      p = features && logits && info
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
