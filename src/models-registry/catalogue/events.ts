import { EventEmitter } from 'node:events';
import type { DeviceInfo } from '../sync/store';

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

/** The registry's event stream, shared by its parts (catalogue, leases, lifecycle). */
export class RegistryEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  /** Subscribes to registry events; returns the function that unsubscribes. */
  on(listener: (e: RegistryEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  emit(e: Omit<RegistryEvent, 'at'>): void {
    this.emitter.emit('event', { ...e, at: new Date() });
  }

  /** Reports a change of `subject` that failed (name and version null: refused before its manifest was read). */
  failed(subject: { name: string | null; version: string | null }, err: unknown): void {
    this.emit({
      type: 'failed',
      name: subject.name,
      version: subject.version,
      message: err instanceof Error ? err.message : String(err),
    });
  }
}
