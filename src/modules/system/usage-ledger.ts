import type { Registry } from 'prom-client';
import type { HashIncrement, SharedHashes } from './shared-hashes';

/**
 * Per-version usage (images run, failed, session run time) over a time window, summed over every
 * api and worker process.
 *
 * Why this shape: each process already counts its session runs in its Prometheus registry (the
 * registry's `dermagraph_model_inference*` metrics). Every MONITOR_INTERVAL_MS (and when it stops)
 * a process adds what changed since its last flush to a minute bucket and an hour bucket in Redis,
 * one HINCRBY per changed field in one MULTI. Counters from many processes then add up atomically,
 * nothing is written per inference, and the keys' TTL is the retention. Percentiles do not add up,
 * but histogram bucket counts do, so the latency is kept as the same buckets and p50/p95 are
 * estimated from the merged counts (linear within a bucket, as Prometheus' histogram_quantile).
 * Without Redis (embedded: one process) the same buckets live in memory.
 */

const INFERENCES = 'dermagraph_model_inferences_total';
const ERRORS = 'dermagraph_model_inference_errors_total';
const DURATION = 'dermagraph_model_inference_duration_seconds';

/** Minute buckets (kept 48 h) answer windows up to a day; hour buckets (kept 35 days) longer ones. */
const RESOLUTIONS = {
  minute: { seconds: 60, ttlSeconds: 48 * 3600, prefix: 'usage:m:' },
  hour: { seconds: 3600, ttlSeconds: 35 * 24 * 3600, prefix: 'usage:h:' },
} as const;
export type UsageResolution = keyof typeof RESOLUTIONS;
export const MAX_USAGE_WINDOW_MS = 31 * 24 * 3600 * 1000;

/** One version's counts: images run, failed, and session runs per latency bucket (upper bounds in seconds). */
interface Tally {
  requests: number;
  errors: number;
  /** Non-cumulative counts per bucket of `bounds`, the last one above the highest bound. */
  buckets: number[];
}

export interface VersionUsage {
  model: string;
  version: string;
  requests: number;
  failures: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

export interface UsageReport {
  since: Date;
  until: Date;
  resolution: UsageResolution;
  versions: VersionUsage[];
}

type Sample = { labels: Record<string, string | number>; value: number; metricName?: string };

async function samples(registry: Registry, name: string): Promise<Sample[]> {
  const metric = registry.getSingleMetric(name);
  return metric ? ((await metric.get()).values as Sample[]) : [];
}

/** Reads this process's cumulative counts by model@version (devices summed) and the bucket bounds. */
async function readTallies(registry: Registry): Promise<{ bounds: number[]; tallies: Map<string, Tally> }> {
  const [inf, err, dur] = await Promise.all([
    samples(registry, INFERENCES),
    samples(registry, ERRORS),
    samples(registry, DURATION),
  ]);
  const bucketRows = dur.filter((s) => s.metricName?.endsWith('_bucket'));
  const bounds = [...new Set(bucketRows.map((s) => Number(s.labels.le)).filter(Number.isFinite))].sort((a, b) => a - b);
  const tallies = new Map<string, Tally>();
  const tally = (l: Sample['labels']) => {
    const key = `${l.model}@${l.version}`;
    let t = tallies.get(key);
    if (!t) tallies.set(key, (t = { requests: 0, errors: 0, buckets: new Array<number>(bounds.length + 1).fill(0) }));
    return t;
  };
  for (const s of inf) tally(s.labels).requests += s.value;
  for (const s of err) tally(s.labels).errors += s.value;
  // Cumulative `le` counts per label set, turned into counts per bucket.
  const cumulative = new Map<string, { labels: Sample['labels']; byLe: Map<number, number> }>();
  for (const s of bucketRows) {
    const { le, ...rest } = s.labels;
    const id = JSON.stringify(rest);
    let c = cumulative.get(id);
    if (!c) cumulative.set(id, (c = { labels: rest, byLe: new Map() }));
    c.byLe.set(Number(le), s.value);
  }
  for (const { labels, byLe } of cumulative.values()) {
    const t = tally(labels);
    let below = 0;
    bounds.forEach((b, i) => {
      const upTo = byLe.get(b) ?? below;
      t.buckets[i] += upTo - below;
      below = upTo;
    });
    t.buckets[bounds.length] += (byLe.get(Infinity) ?? below) - below;
  }
  return { bounds, tallies };
}

/** Session runs whose time fell in (lower, upper] seconds (upper Infinity: above the highest bound). */
export interface LatencyRange {
  lower: number;
  upper: number;
  count: number;
}

/** The value below which `q` (0..1) of the runs lie, interpolated within its range; null without runs. */
export function quantileOf(ranges: LatencyRange[], q: number): number | null {
  const sorted = ranges.filter((r) => r.count > 0).sort((a, b) => a.upper - b.upper);
  const total = sorted.reduce((a, r) => a + r.count, 0);
  if (total <= 0) return null;
  const rank = q * total;
  let seen = 0;
  for (const r of sorted) {
    if (seen + r.count >= rank) {
      if (!Number.isFinite(r.upper)) return r.lower; // above the highest bound: that bound
      return r.lower + (r.upper - r.lower) * ((rank - seen) / r.count);
    }
    seen += r.count;
  }
  return sorted[sorted.length - 1].lower;
}

/** Writes this process's usage into the shared buckets; reads everyone's back. */
export class UsageLedger {
  private last = new Map<string, Tally>();

  constructor(
    private readonly hashes: SharedHashes,
    private readonly registry: Registry,
  ) {}

  /** Adds what changed since the last flush to the current minute and hour buckets. */
  async flush(now = Date.now()): Promise<void> {
    const { bounds, tallies } = await readTallies(this.registry);
    const changes: HashIncrement[] = [];
    for (const [key, t] of tallies) {
      const before = this.last.get(key);
      const fields: Array<[string, number]> = [
        ['r', t.requests - (before?.requests ?? 0)],
        ['e', t.errors - (before?.errors ?? 0)],
        // Each latency bucket named by its range (`b0.01_0.025`), so any reader can interpolate within it.
        ...t.buckets.map(
          (n, i) =>
            [
              `b${i === 0 ? 0 : bounds[i - 1]}_${i < bounds.length ? bounds[i] : 'inf'}`,
              n - (before?.buckets[i] ?? 0),
            ] as [string, number],
        ),
      ];
      for (const [field, by] of fields) {
        if (by <= 0) continue;
        for (const r of Object.values(RESOLUTIONS)) {
          const bucket = Math.floor(now / 1000 / r.seconds);
          changes.push({ key: `${r.prefix}${bucket}`, field: `${key}|${field}`, by, ttlSeconds: r.ttlSeconds });
        }
      }
    }
    await this.hashes.increment(changes);
    this.last = tallies;
  }

  /** Usage in [since, until) from every process (whole buckets: minutes up to a day's window, else hours). */
  async report(since: Date, until: Date, now = Date.now()): Promise<UsageReport> {
    const span = until.getTime() - since.getTime();
    const resolution: UsageResolution =
      span <= 24 * 3600_000 && now - since.getTime() < RESOLUTIONS.minute.ttlSeconds * 1000 ? 'minute' : 'hour';
    const r = RESOLUTIONS[resolution];
    const first = Math.floor(since.getTime() / 1000 / r.seconds);
    const last = Math.floor((until.getTime() - 1) / 1000 / r.seconds);
    const keys: string[] = [];
    for (let b = first; b <= last; b++) keys.push(`${r.prefix}${b}`);
    const hashes = await this.hashes.getMany(keys);
    const byVersion = new Map<string, { requests: number; failures: number; ranges: Map<string, LatencyRange> }>();
    for (const h of hashes) {
      for (const [f, v] of Object.entries(h)) {
        const bar = f.lastIndexOf('|');
        const key = f.slice(0, bar);
        const kind = f.slice(bar + 1);
        let u = byVersion.get(key);
        if (!u) byVersion.set(key, (u = { requests: 0, failures: 0, ranges: new Map() }));
        const n = Number(v);
        if (kind === 'r') u.requests += n;
        else if (kind === 'e') u.failures += n;
        else if (kind.startsWith('b')) {
          const [lower, upper] = kind.slice(1).split('_');
          const range = u.ranges.get(kind) ?? {
            lower: Number(lower),
            upper: upper === 'inf' ? Infinity : Number(upper),
            count: 0,
          };
          range.count += n;
          u.ranges.set(kind, range);
        }
      }
    }
    const versions = [...byVersion].map(([key, u]): VersionUsage => {
      const at = key.lastIndexOf('@');
      const ms = (q: number) => {
        const s = quantileOf([...u.ranges.values()], q);
        return s === null ? null : s * 1000;
      };
      return {
        model: key.slice(0, at),
        version: key.slice(at + 1),
        requests: u.requests,
        failures: u.failures,
        p50Ms: ms(0.5),
        p95Ms: ms(0.95),
      };
    });
    versions.sort((a, b) => a.model.localeCompare(b.model) || a.version.localeCompare(b.version));
    return { since, until, resolution, versions };
  }
}
