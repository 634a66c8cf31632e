import * as ort from 'onnxruntime-node';
import type { ModelLease } from '../models-registry';
import { batchShape } from '../inference/preprocess';
import { handOver } from '../models-registry/threaded-session';

/** One image's slice of every output: data and dims with the batch axis set to 1. */
export type ImageOutputs = Record<string, { data: Float32Array; dims: number[] }>;

interface Pending {
  input: Float32Array;
  lease: ModelLease;
  resolve: (o: ImageOutputs) => void;
  reject: (e: unknown) => void;
}

/** Splits batched outputs (N x ...) into per-image slices. */
export function splitOutputs(out: ort.InferenceSession.ReturnType, n: number): ImageOutputs[] {
  const per: ImageOutputs[] = Array.from({ length: n }, () => ({}));
  for (const [name, t] of Object.entries(out)) {
    const data = t.data as Float32Array;
    if (t.dims[0] !== n) throw new Error(`output ${name} has batch ${t.dims[0]}, expected ${n}`);
    const size = data.length / n;
    for (let i = 0; i < n; i++) per[i][name] = { data: data.slice(i * size, (i + 1) * size), dims: [1, ...t.dims.slice(1)] };
  }
  return per;
}

/**
 * Dynamic batching for one model session. An image that finds the session idle runs at once (no
 * added latency at low load); images that arrive while `maxInFlight` batches are running wait and
 * go together as the next batch, up to `maxBatch`, and never wait longer than `maxDelayMs`.
 * With maxBatch 1 (a fixed batch axis) every image runs alone. Each image keeps its own lease,
 * so a hot swap during the wait cannot pull the session away.
 */
export class DynamicBatcher {
  private waiting: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight = 0;
  /** Batches run so far and images in them (for tests and metrics). */
  readonly stats = { batches: 0, images: 0, largest: 0 };

  constructor(
    private readonly maxBatch: number,
    private readonly maxDelayMs: number,
    private readonly spec: { inputName: string; layout: 'NCHW' | 'NHWC'; width: number; height: number; outputs: string[] },
    private readonly maxInFlight = 2,
  ) {}

  run(lease: ModelLease, input: Float32Array): Promise<ImageOutputs> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ input, lease, resolve, reject });
      if (this.inFlight < this.maxInFlight || this.waiting.length >= this.maxBatch || this.maxDelayMs <= 0) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.maxDelayMs);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.waiting.length) {
      const batch = this.waiting.splice(0, this.maxBatch);
      void this.runBatch(batch);
    }
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    this.inFlight++;
    const n = batch.length;
    const per = batch[0].input.length;
    // Packed into a buffer of the run's own (the images' tensors stay with their jobs), which a
    // threaded session then takes over without copying.
    const data = handOver(n === 1 ? batch[0].input.slice() : new Float32Array(per * n));
    if (n > 1) batch.forEach((p, i) => data.set(p.input, i * per));
    this.stats.batches++;
    this.stats.images += n;
    this.stats.largest = Math.max(this.stats.largest, n);
    try {
      const feeds = { [this.spec.inputName]: new ort.Tensor('float32', data, batchShape(n, this.spec)) };
      const out = await batch[0].lease.run(feeds, this.spec.outputs);
      const split = splitOutputs(out, n);
      batch.forEach((p, i) => p.resolve(split[i]));
    } catch (e) {
      batch.forEach((p) => p.reject(e));
    } finally {
      this.inFlight--;
      if (this.waiting.length && this.inFlight < this.maxInFlight) this.flush();
    }
  }
}

const batchers = new WeakMap<object, DynamicBatcher>();

/** The batcher of a lease's session (one per live session; gone with the session). */
export function batcherFor(lease: ModelLease): DynamicBatcher {
  let b = batchers.get(lease.session);
  if (!b) {
    const m = lease.manifest;
    b = new DynamicBatcher(m.batching.maxBatch, m.batching.maxDelayMs, {
      inputName: m.input.name,
      layout: m.input.layout,
      width: m.input.width,
      height: m.input.height,
      outputs: m.outputs.map((o) => o.name),
    });
    batchers.set(lease.session, b);
  }
  return b;
}
