import type { Catalogue } from '../catalogue/catalogue';
import type { RegistryBus, RegistryMessage } from './bus';

/** A change as this process announces it (the bus message without its sender). */
export type RegistryChange = WithoutOrigin<RegistryMessage>;
type WithoutOrigin<M> = M extends RegistryMessage ? Omit<M, 'origin'> : never;

/** What applies a change another process announced: the registry's lifecycle, told not to broadcast it again. */
export interface ChangeTarget {
  activate(name: string, version: string, opts: { broadcast: false }): Promise<unknown>;
  unload(name: string, version: string, opts: { broadcast: false }): Promise<unknown>;
  setDevice(name: string, version: string, device: string, opts: { broadcast: false }): Promise<unknown>;
  regenerateCache(opts: { broadcast: false }): Promise<unknown>;
}

/**
 * Keeps the processes' registries in step: announces this process's changes on the bus, and
 * applies the others', one at a time in the order received ("activate 2 then 1" must not end on 2
 * because loading 2 took longer). The store holds what a process that starts later reads.
 */
export class RegistrySync {
  private unsubscribe: (() => Promise<void>) | null = null;
  private applying: Promise<void> = Promise.resolve();

  constructor(private readonly deps: { processId: string; catalogue: Catalogue; bus?: RegistryBus }) {}

  /** Announces a change made here; a bus that fails loses it (other processes catch up at start). */
  async publish(change: RegistryChange): Promise<void> {
    const message: RegistryMessage = { ...change, origin: this.deps.processId };
    await this.deps.bus?.publish(message).catch(() => undefined);
  }

  /** Starts applying the other processes' changes to `target` (once; without a bus, nothing). */
  async listen(target: ChangeTarget): Promise<void> {
    const bus = this.deps.bus;
    if (!bus || this.unsubscribe) return;
    this.unsubscribe = await bus.subscribe((msg) => {
      this.applying = this.applying.then(() => this.apply(target, msg));
    });
  }

  /** Applies a change broadcast by another process (the lifecycle loads the package from shared storage if needed). */
  private async apply(target: ChangeTarget, msg: RegistryMessage): Promise<void> {
    if (msg.origin === this.deps.processId) return;
    const local = { broadcast: false } as const;
    try {
      if (msg.type === 'unload' && !this.deps.catalogue.has(msg.name, msg.version)) return;
      if (msg.type === 'activate') await target.activate(msg.name, msg.version, local);
      else if (msg.type === 'unload') await target.unload(msg.name, msg.version, local);
      else if (msg.type === 'set_device') await target.setDevice(msg.name, msg.version, msg.device, local);
      else await target.regenerateCache(local);
    } catch {
      // Already reported as a `failed` event; this process keeps its current version.
    }
  }

  /** Stops listening, once the changes received so far are applied. */
  async close(): Promise<void> {
    if (this.unsubscribe) await this.unsubscribe();
    this.unsubscribe = null;
    await this.applying;
  }
}
