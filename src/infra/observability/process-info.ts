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

/** What loopDelayFigures reads of a perf_hooks histogram (nanoseconds). */
export type DelayHistogram = Pick<IntervalHistogram, 'mean' | 'max' | 'percentile'>;

/**
 * The delays of `h` in milliseconds. perf_hooks' event-loop histogram records the whole time between its timer's
 * ticks, the sampling interval included, so an idle loop sampled every 20 ms reads 20 ms: the interval is taken
 * off (never below 0), leaving how long the loop kept the tick waiting.
 */
export function loopDelayFigures(
  h: DelayHistogram,
  resolutionMs: number,
): Pick<LoopDelaySnapshot, 'meanMs' | 'p50Ms' | 'p99Ms' | 'maxMs'> {
  const ms = (ns: number) => (Number.isFinite(ns) ? Math.max(0, ns / 1e6 - resolutionMs) : 0);
  return { meanMs: ms(h.mean), p50Ms: ms(h.percentile(50)), p99Ms: ms(h.percentile(99)), maxMs: ms(h.max) };
}

/** How often LoopDelayMonitor samples the loop. */
const LOOP_SAMPLE_MS = 20;

/**
 * Samples the event loop's delay (every 20 ms) and reports it per window: `take()` returns the
 * figures since the last take and starts a new window, so a heartbeat shows the recent past, not
 * an average since start.
 */
export class LoopDelayMonitor {
  private readonly h: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
  private since = Date.now();
  private last: LoopDelaySnapshot | null = null;

  constructor() {
    this.h.enable();
  }

  /** The window since the last take (or the last window's figures when this one has no sample yet). */
  take(): LoopDelaySnapshot {
    const now = Date.now();
    if (this.h.count > 0 || !this.last) {
      this.last = { ...loopDelayFigures(this.h, LOOP_SAMPLE_MS), windowSeconds: (now - this.since) / 1000 };
      this.h.reset();
      this.since = now;
    }
    return this.last;
  }

  stop(): void {
    this.h.disable();
  }
}
