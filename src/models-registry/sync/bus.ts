import { EventEmitter } from 'node:events';

/**
 * Cross-process broadcast of registry changes (Redis pub/sub in the services deployment).
 * Every process applies a message it did not send itself (`origin` is the sender's id).
 */
export type RegistryMessage =
  | { type: 'activate'; name: string; version: string; origin: string }
  | { type: 'unload'; name: string; version: string; origin: string }
  | { type: 'set_device'; name: string; version: string; device: string; origin: string }
  | { type: 'regenerate'; origin: string };

export interface RegistryBus {
  publish(message: RegistryMessage): Promise<void>;
  /** Resolves once subscribed; returns the function that unsubscribes. */
  subscribe(handler: (message: RegistryMessage) => void): Promise<() => Promise<void>>;
}

/** One process (or several registries in one test sharing an instance). */
export class InMemoryRegistryBus implements RegistryBus {
  private readonly emitter = new EventEmitter();

  async publish(message: RegistryMessage): Promise<void> {
    // Delivered on a later tick, like a network bus.
    const copy = structuredClone(message);
    setImmediate(() => this.emitter.emit('message', copy));
  }

  async subscribe(handler: (message: RegistryMessage) => void): Promise<() => Promise<void>> {
    this.emitter.on('message', handler);
    return async () => {
      this.emitter.off('message', handler);
    };
  }
}
