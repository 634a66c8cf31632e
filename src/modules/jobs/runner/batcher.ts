import * as ort from 'onnxruntime-node';
import type { ModelLease } from '../../../models-registry';
import { batchShape, rgbToTensor, type InputSpec } from '../../../inference/preprocess';
import { handOver } from '../../../models-registry';

/** One image's slice of every output: data and dims with the batch axis set to 1. */
export type ImageOutputs = Record<string, { data: Float32Array; dims: number[] }>;

interface Pending {
  /** The image's RGB bytes at the model's input size (see decodeAndResize). */
  pixels: Uint8Array;
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
    for (let i = 0; i < n; i++)
      per[i][name] = { data: data.slice(i * size, (i + 1) * size), dims: [1, ...t.dims.slice(1)] };
  }
  return per;
}

/**
 * Input buffers of one batcher, reused: each holds a full batch, and a run's buffer comes back
 * to the pool (from the session's thread, or at once from an in-thread session) when the run is
 * over. Fresh buffers of a batch's size for every run cost page faults and, living across the
 * queue and the run, old-generation garbage collections.
 */
class InputBuffers {
  private readonly free: ArrayBuffer[] = [];

  constructor(
    private readonly bytes: number,
    private readonly keep: number,
  ) {}

  take(): ArrayBuffer {
    return this.free.pop() ?? new ArrayBuffer(this.bytes);
  }

  readonly give = (buffer: ArrayBuffer): void => {
    if (buffer.byteLength === this.bytes && this.free.length < this.keep) this.free.push(buffer);
  };
}

export interface BatchSpec {
  inputName: string;
  input: InputSpec;
  outputs: string[];
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

  private readonly buffers: InputBuffers;
  /** Floats of one image's tensor. */
  private readonly perImage: number;

  constructor(
    private readonly maxBatch: number,
    private readonly maxDelayMs: number,
    private readonly spec: BatchSpec,
    private readonly maxInFlight = 2,
  ) {
    this.perImage = spec.input.width * spec.input.height * 3;
    this.buffers = new InputBuffers(maxBatch * this.perImage * Float32Array.BYTES_PER_ELEMENT, maxInFlight + 1);
  }

  /** Runs one image, given as its RGB bytes at the model's size; normalised into its batch's input. */
  run(lease: ModelLease, pixels: Uint8Array): Promise<ImageOutputs> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ pixels, lease, resolve, reject });
      if (this.inFlight < this.maxInFlight || this.waiting.length >= this.maxBatch || this.maxDelayMs <= 0)
        this.flush();
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
    const per = this.perImage;
    try {
      // Each image is normalised straight into its slot of a pooled buffer, which a threaded
      // session takes over without copying and gives back after the run.
      const data = new Float32Array(this.buffers.take(), 0, per * n);
      batch.forEach((p, i) => rgbToTensor(p.pixels, this.spec.input, data.subarray(i * per, (i + 1) * per)));
      this.stats.batches++;
      this.stats.images += n;
      this.stats.largest = Math.max(this.stats.largest, n);
      const feeds = {
        [this.spec.inputName]: new ort.Tensor(
          'float32',
          handOver(data, this.buffers.give),
          batchShape(n, this.spec.input),
        ),
      };
      const out = await batch[0].lease.run(feeds, this.spec.outputs);
      // An in-thread session leaves the buffer here (a threaded one has given it back already).
      if (data.buffer.byteLength) this.buffers.give(data.buffer as ArrayBuffer);
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
      input: m.input,
      outputs: m.outputs.map((o) => o.name),
    });
    batchers.set(lease.session, b);
  }
  return b;
}
