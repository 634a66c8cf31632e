/**
 * Per-version request statistics. Latencies are kept in a fixed-size reservoir (Vitter's
 * algorithm R), so p50/p95 describe the whole history with bounded memory.
 */
export interface VersionStats {
  requests: number;
  errors: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

/** Nearest-rank percentile of sorted values (p in 0..100); null when empty. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export class LatencyReservoir {
  private readonly samples: number[] = [];
  private seen = 0;
  constructor(
    private readonly capacity = 1024,
    private readonly random: () => number = Math.random,
  ) {}

  add(ms: number): void {
    this.seen++;
    if (this.samples.length < this.capacity) this.samples.push(ms);
    else {
      const j = Math.floor(this.random() * this.seen);
      if (j < this.capacity) this.samples[j] = ms;
    }
  }

  quantiles(): { p50: number | null; p95: number | null } {
    const sorted = [...this.samples].sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
  }
}

export class StatsCounter {
  requests = 0;
  errors = 0;
  private readonly latency = new LatencyReservoir();

  record(ms: number, ok: boolean, images = 1): void {
    this.requests += images;
    if (!ok) this.errors += images;
    else this.latency.add(ms);
  }

  snapshot(): VersionStats {
    const q = this.latency.quantiles();
    return { requests: this.requests, errors: this.errors, p50Ms: q.p50, p95Ms: q.p95 };
  }
}
