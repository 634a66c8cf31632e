import type { Manifest } from '../package/manifest';
import type { Placement, Threads } from '../runtime/sessions';
import type { StatsCounter } from '../runtime/stats';
import type { ModelSession } from '../runtime/threaded-session';
import type { DeviceInfo, VersionStatus } from '../sync/store';

/** One live onnxruntime session of a version. */
export interface Slot {
  session: ModelSession;
  placement: Placement;
  leases: number;
  /** Out of service (swapped out, unloaded, or loaded again only for pinned jobs): no new plain lease. */
  retired: boolean;
  released: boolean;
  loadedAt: Date;
  loadMs: number;
}

/** A version this process holds: its checked package, its session, and swapped-out sessions not released yet. */
export interface Entry {
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

export const versionKey = (name: string, version: string) => `${name}@${version}`;

export const deviceInfo = (p: Placement): DeviceInfo => ({
  requested: p.requested,
  actual: p.actual,
  fallbackReason: p.fallbackReason,
});

export function newSlot(session: ModelSession, placement: Placement, loadMs: number): Slot {
  return { session, placement, leases: 0, retired: false, released: false, loadedAt: new Date(), loadMs };
}

/** The live sessions of `e`: its own (if any) and the swapped-out ones not released yet. */
export const liveSlots = (e: Entry): Slot[] => [...(e.slot ? [e.slot] : []), ...e.draining];
