import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** Which process a log line, a heartbeat or a status comes from. */
export interface ProcessIdentity {
  /** host:pid:random — unique even when a pid is reused on a host. */
  id: string;
  /** `api` (dermagraph serve) or `worker` (dermagraph worker). */
  role: 'api' | 'worker';
  host: string;
  pid: number;
  startedAt: Date;
}

export function processIdentity(role: ProcessIdentity['role'], startedAt = new Date()): ProcessIdentity {
  const host = os.hostname();
  return { id: `${host}:${process.pid}:${randomBytes(3).toString('hex')}`, role, host, pid: process.pid, startedAt };
}

export interface MemorySnapshot {
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
}

export function memorySnapshot(): MemorySnapshot {
  const m = process.memoryUsage();
  return { rssBytes: m.rss, heapUsedBytes: m.heapUsed, heapTotalBytes: m.heapTotal, externalBytes: m.external };
}

/** Event-loop delay over a window (perf_hooks' histogram, in milliseconds). */
export interface LoopDelaySnapshot {
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Length of the window the figures cover. */
  windowSeconds: number;
}

/**
 * Samples the event loop's delay (every 20 ms) and reports it per window: `take()` returns the
 * figures since the last take and starts a new window, so a heartbeat shows the recent past, not
 * an average since start.
 */
export class LoopDelayMonitor {
  private readonly h: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  private since = Date.now();
  private last: LoopDelaySnapshot | null = null;

  constructor() {
    this.h.enable();
  }

  /** The window since the last take (or the last window's figures when this one has no sample yet). */
  take(): LoopDelaySnapshot {
    const now = Date.now();
    const ms = (ns: number) => (Number.isFinite(ns) ? ns / 1e6 : 0);
    if (this.h.count > 0 || !this.last) {
      this.last = {
        meanMs: ms(this.h.mean),
        p50Ms: ms(this.h.percentile(50)),
        p99Ms: ms(this.h.percentile(99)),
        maxMs: ms(this.h.max),
        windowSeconds: (now - this.since) / 1000,
      };
      this.h.reset();
      this.since = now;
    }
    return this.last;
  }

  stop(): void {
    this.h.disable();
  }
}
