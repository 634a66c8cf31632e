import { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

/**
 * What the registry and the jobs use of an onnxruntime session. onnxruntime-node runs a session
 * synchronously on the calling thread, so a session on the main thread stalls every request,
 * WebSocket and health check for as long as each inference takes; a ThreadedSession keeps the
 * session on a thread of its own and the event loop free.
 */
export interface ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  run(feeds: ort.InferenceSession.FeedsType, fetches?: readonly string[]): Promise<ort.InferenceSession.ReturnType>;
  release(): Promise<void>;
}

/** Where a buffer given up (see handOver) goes after the run, if anywhere. */
type GiveBack = ((buffer: ArrayBuffer) => void) | null;

/** Buffers their owners have given up (see handOver): moved to a session's thread, not copied. */
const handedOver = new WeakMap<ArrayBufferLike, GiveBack>();

/**
 * Gives `view`'s buffer up to the next ThreadedSession run it is fed to, which moves it to its
 * thread instead of copying it (the caller must not use it again). With `giveBack`, the thread
 * moves the buffer back once the run is over and `giveBack` receives it (a pool's, say), so
 * large inputs are not allocated afresh for every run. Returns `view`.
 */
export function handOver<T extends ArrayBufferView>(view: T, giveBack: GiveBack = null): T {
  handedOver.set(view.buffer, giveBack);
  return view;
}

/** A tensor as it crosses threads (structured clone copies the data in; results are transferred back). */
interface WireTensor {
  type: ort.Tensor.Type;
  data: ort.Tensor.DataType;
  dims: readonly number[];
}

interface SessionInfo {
  inputNames: string[];
  outputNames: string[];
  inputMetadata: ort.InferenceSession.ValueMetadata[];
  outputMetadata: ort.InferenceSession.ValueMetadata[];
}

type Reply = {
  id: number;
  error?: string;
  info?: SessionInfo;
  outputs?: Record<string, WireTensor>;
  inputs?: Record<string, ArrayBuffer>;
};

// The thread's code, plain CommonJS (evaluated, so it runs the same from src under jest and from dist).
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ort);
let session = null;
parentPort.on('message', async (m) => {
  try {
    if (m.op === 'create') {
      session = await ort.InferenceSession.create(m.path, m.options);
      const { inputNames, outputNames, inputMetadata, outputMetadata } = session;
      parentPort.postMessage({ id: m.id, info: { inputNames, outputNames, inputMetadata, outputMetadata } });
    } else if (m.op === 'run') {
      const feeds = {};
      for (const [name, t] of Object.entries(m.feeds)) feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
      const out = m.fetches ? await session.run(feeds, m.fetches) : await session.run(feeds);
      const outputs = {};
      const transfer = [];
      for (const [name, t] of Object.entries(out)) {
        outputs[name] = { type: t.type, data: t.data, dims: t.dims };
        if (ArrayBuffer.isView(t.data) && !transfer.includes(t.data.buffer)) transfer.push(t.data.buffer);
      }
      // Inputs whose owner wants their buffers back, moved back the way they came.
      const inputs = {};
      for (const name of m.giveBack) {
        inputs[name] = m.feeds[name].data.buffer;
        if (!transfer.includes(inputs[name])) transfer.push(inputs[name]);
      }
      parentPort.postMessage({ id: m.id, outputs, inputs }, transfer);
    } else if (m.op === 'release') {
      if (session) await session.release();
      session = null;
      parentPort.postMessage({ id: m.id });
    }
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: String((e && e.message) || e) });
  }
});
`;

/** One worker thread and the calls waiting on it. */
class SessionThread {
  readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  /** Why the thread is gone (exited, failed, or terminated), once it is. */
  died: Error | null = null;

  constructor() {
    this.worker = new Worker(THREAD_SOURCE, { eval: true, workerData: { ort: require.resolve('onnxruntime-node') } });
    // The thread keeps the process alive only while a call is waiting on it.
    this.worker.unref();
    this.worker.on('message', (r: Reply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.settled(r.id);
      if (r.error !== undefined) p.reject(new Error(r.error));
      else p.resolve(r);
    });
    const fail = (e: Error) => {
      this.died ??= e;
      for (const [id, p] of this.pending) {
        this.settled(id);
        p.reject(e);
      }
    };
    this.worker.on('error', (e) => fail(new Error(`inference thread failed: ${e.message}`)));
    this.worker.on('exit', (code) => fail(new Error(`inference thread exited (code ${code})`)));
  }

  call(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (this.died) return Promise.reject(this.died);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  async terminate(): Promise<void> {
    this.died ??= new Error('inference thread terminated');
    await this.worker.terminate();
  }

  private settled(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
  }
}

/**
 * An onnxruntime session on its own worker thread (one thread per session). If the thread dies
 * (out of memory, say), the runs waiting on it fail and the next run starts a new thread with the
 * same session, so one bad moment does not leave a loaded model failing until it is reloaded.
 */
export class ThreadedSession implements ModelSession {
  private thread: SessionThread | null = null;
  private restarting: Promise<SessionThread> | null = null;
  private released = false;
  private info: SessionInfo = { inputNames: [], outputNames: [], inputMetadata: [], outputMetadata: [] };
  /** Threads started again after one died. */
  restarts = 0;

  private constructor(
    private readonly modelPath: string,
    private readonly options: ort.InferenceSession.SessionOptions,
  ) {}

  /** Creates the session (ort.InferenceSession.create's options) on a new thread; rejects as create would. */
  static async create(modelPath: string, options: ort.InferenceSession.SessionOptions): Promise<ThreadedSession> {
    const s = new ThreadedSession(modelPath, options);
    s.thread = await s.start();
    return s;
  }

  private async start(): Promise<SessionThread> {
    const thread = new SessionThread();
    try {
      this.info = (await thread.call({ op: 'create', path: this.modelPath, options: this.options })).info!;
    } catch (e) {
      await thread.terminate();
      throw e;
    }
    return thread;
  }

  /** The session's thread, started again if it died. */
  private async live(): Promise<SessionThread> {
    if (this.released) throw new Error('session released');
    if (this.thread && !this.thread.died) return this.thread;
    this.restarting ??= this.start()
      .then((t) => {
        this.thread = t;
        this.restarts++;
        return t;
      })
      .finally(() => (this.restarting = null));
    return this.restarting;
  }

  get inputNames(): readonly string[] {
    return this.info.inputNames;
  }
  get outputNames(): readonly string[] {
    return this.info.outputNames;
  }
  get inputMetadata(): readonly ort.InferenceSession.ValueMetadata[] {
    return this.info.inputMetadata;
  }
  get outputMetadata(): readonly ort.InferenceSession.ValueMetadata[] {
    return this.info.outputMetadata;
  }

  async run(
    feeds: ort.InferenceSession.FeedsType,
    fetches?: readonly string[],
  ): Promise<ort.InferenceSession.ReturnType> {
    const wire: Record<string, WireTensor> = {};
    const transfer: ArrayBuffer[] = [];
    const giveBack = new Map<string, (buffer: ArrayBuffer) => void>();
    for (const [name, t] of Object.entries(feeds)) {
      wire[name] = { type: t.type, data: t.data, dims: t.dims };
      const buffer = (t.data as ArrayBufferView).buffer as ArrayBuffer;
      if (!buffer || !handedOver.has(buffer) || transfer.includes(buffer)) continue;
      transfer.push(buffer);
      const back = handedOver.get(buffer);
      if (back) giveBack.set(name, back);
    }
    const thread = await this.live();
    const { outputs, inputs } = await thread.call(
      { op: 'run', feeds: wire, fetches: fetches ? [...fetches] : undefined, giveBack: [...giveBack.keys()] },
      transfer,
    );
    for (const [name, back] of giveBack) back(inputs![name]);
    const out: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(outputs!))
      out[name] = new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims);
    return out;
  }

  /** Releases the session and ends its thread; idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const thread = this.thread ?? (await this.restarting?.catch(() => null)) ?? null;
    this.thread = null;
    if (!thread || thread.died) return;
    try {
      await thread.call({ op: 'release' });
    } finally {
      await thread.terminate();
    }
  }
}
