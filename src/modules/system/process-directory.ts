import type { LoopDelaySnapshot, MemorySnapshot, ProcessIdentity } from '../../infra/observability/process-info';
import type { SharedHashes } from './shared-hashes';

/** A model version a process holds, and where it runs. */
export interface LoadedModel {
  name: string;
  version: string;
  /** The device its session actually runs on (cpu, cuda:0, ...). */
  device: string;
  status: string;
  active: boolean;
}

/** What a process says about itself in each heartbeat (and `systemStatus` about the answering one). */
export interface ProcessBeat {
  id: string;
  role: ProcessIdentity['role'];
  host: string;
  pid: number;
  startedAt: string;
  /** When this heartbeat was written (ISO). */
  seenAt: string;
  memory: MemorySnapshot;
  eventLoopDelay: LoopDelaySnapshot;
  models: LoadedModel[];
}

/** A process unseen for this long is no longer counted (it stopped, crashed or lost Redis). */
export const SEEN_WITHIN_MS = 60_000;
/** Heartbeats older than this are deleted by whoever reads the directory. */
const FORGET_AFTER_MS = 10 * 60_000;
const KEY = 'processes';

/**
 * Every api and worker process writes a heartbeat into one shared hash (field: its id) every
 * MONITOR_INTERVAL_MS and removes it when it stops; readers see the processes heard from in the
 * last minute. A crashed process stops beating and drops out by age; its entry is deleted later.
 */
export class ProcessDirectory {
  constructor(private readonly hashes: SharedHashes) {}

  async beat(beat: ProcessBeat): Promise<void> {
    await this.hashes.set(KEY, beat.id, JSON.stringify(beat));
  }

  async remove(id: string): Promise<void> {
    await this.hashes.remove(KEY, [id]);
  }

  /** The processes heard from within `withinMs`, api first, then by host and pid. */
  async seen(withinMs = SEEN_WITHIN_MS, now = Date.now()): Promise<ProcessBeat[]> {
    const all = await this.hashes.getAll(KEY);
    const fresh: ProcessBeat[] = [];
    const stale: string[] = [];
    for (const [id, text] of Object.entries(all)) {
      let beat: ProcessBeat | null = null;
      try {
        beat = JSON.parse(text) as ProcessBeat;
      } catch {
        // A foreign or damaged entry: forgotten below.
      }
      const age = beat ? now - Date.parse(beat.seenAt) : Infinity;
      if (beat && age <= withinMs) fresh.push(beat);
      else if (!(age <= FORGET_AFTER_MS)) stale.push(id);
    }
    if (stale.length) await this.hashes.remove(KEY, stale).catch(() => undefined);
    return fresh.sort((a, b) => a.role.localeCompare(b.role) || a.host.localeCompare(b.host) || a.pid - b.pid);
  }
}
