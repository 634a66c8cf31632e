import { Worker } from 'node:worker_threads';
import { extname, join } from 'node:path';
import type { IMAGE_TASKS, ImageTaskName } from './image-tasks';

type Input<K extends ImageTaskName> = Parameters<(typeof IMAGE_TASKS)[K]>[0];
type Output<K extends ImageTaskName> = Awaited<ReturnType<(typeof IMAGE_TASKS)[K]>>;

/** A buffer's bytes in an ArrayBuffer of their own, so moving it to a thread takes nothing else along. */
export function movable(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return b.byteOffset === 0 && b.buffer.byteLength === b.byteLength && b.buffer instanceof ArrayBuffer
    ? new Uint8Array(b.buffer, 0, b.byteLength)
    : Uint8Array.from(b);
}

/** A thread's answer as a Buffer (no copy). */
export const asBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** Runs image tasks (image-tasks.ts) off the event loop. */
export interface ImageWork {
  /** Runs `task`; buffers in `transfer` are moved to the thread (the caller must not use them again). */
  run<K extends ImageTaskName>(task: K, input: Input<K>, transfer?: ArrayBuffer[]): Promise<Output<K>>;
  close(): Promise<void>;
}

// The thread's code, plain CommonJS (evaluated, so it runs the same from src under jest and from
// dist). From the TypeScript sources (the tests) it compiles what it requires with swc, as jest does.
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
if (workerData.module.endsWith('.ts')) {
  const fs = require('node:fs');
  const swc = require('@swc/core');
  const options = (filename) => ({ filename, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' }, sourceMaps: 'inline' });
  require.extensions['.ts'] = (m, filename) => m._compile(swc.transformSync(fs.readFileSync(filename, 'utf8'), options(filename)).code, filename);
}
const { IMAGE_TASKS } = require(workerData.module);
const buffersOf = (value, out = new Set()) => {
  if (ArrayBuffer.isView(value)) out.add(value.buffer);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) buffersOf(v, out);
  return out;
};
parentPort.on('message', async ({ id, task, input }) => {
  try {
    const output = await IMAGE_TASKS[task](input);
    parentPort.postMessage({ id, output }, [...buffersOf(output)]);
  } catch (e) {
    parentPort.postMessage({ id, error: String((e && e.message) || e) });
  }
});
`;

interface Pending {
  id: number;
  task: ImageTaskName;
  input: unknown;
  transfer: ArrayBuffer[];
  resolve(v: unknown): void;
  reject(e: Error): void;
}

interface Thread {
  worker: Worker;
  busy: Pending | null;
}

/**
 * A small pool of worker threads for image tasks, one task per thread at a time, in arrival
 * order. Threads start on first use; one that dies fails its task and is replaced.
 */
export class ImageThreads implements ImageWork {
  private readonly threads: Thread[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly size: number,
    /** Told each task's name and seconds (queueing included) when it ends. */
    private readonly observe: (task: ImageTaskName, seconds: number) => void = () => undefined,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`image threads must be a positive integer, got ${size}`);
  }

  run<K extends ImageTaskName>(task: K, input: Input<K>, transfer: ArrayBuffer[] = []): Promise<Output<K>> {
    if (this.closed) return Promise.reject(new Error('image threads are closed'));
    const started = performance.now();
    return new Promise<Output<K>>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, task, input, transfer, resolve: resolve as (v: unknown) => void, reject });
      this.pump();
    }).finally(() => this.observe(task, (performance.now() - started) / 1000));
  }

  private pump(): void {
    while (this.queue.length) {
      const thread = this.threads.find((t) => !t.busy) ?? (this.threads.length < this.size ? this.spawn() : null);
      if (!thread) return;
      const job = this.queue.shift()!;
      thread.busy = job;
      thread.worker.postMessage({ id: job.id, task: job.task, input: job.input }, job.transfer);
    }
  }

  private spawn(): Thread {
    const module = join(__dirname, `image-tasks${extname(__filename)}`);
    const worker = new Worker(THREAD_SOURCE, { eval: true, workerData: { module } });
    const thread: Thread = { worker, busy: null };
    worker.on('message', (m: { id: number; output?: unknown; error?: string }) => {
      const job = thread.busy;
      if (!job || job.id !== m.id) return;
      thread.busy = null;
      if (m.error !== undefined) job.reject(new Error(m.error));
      else job.resolve(m.output);
      this.pump();
    });
    const died = (err: Error) => {
      const i = this.threads.indexOf(thread);
      if (i >= 0) this.threads.splice(i, 1);
      thread.busy?.reject(err);
      thread.busy = null;
      if (!this.closed) this.pump();
    };
    worker.on('error', died);
    worker.on('exit', (code) => died(new Error(`image thread exited (code ${code})`)));
    worker.unref();
    this.threads.push(thread);
    return thread;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('image threads are closed'));
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
