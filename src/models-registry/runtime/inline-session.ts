import * as ort from 'onnxruntime-node';
import { QuickOnLoop } from '../../infra/quick-on-loop';
import type { ModelSession } from './threaded-session';

/** A model file up to this size may also run on the event loop (InlineWhenQuick): the shipped ones are 95-230 KB. */
export const INLINE_MAX_MODEL_BYTES = 4 * 1024 * 1024;

/**
 * Runs of one item (every input's first axis 1) that hold the loop longer than this, on average (each run weighs a
 * tenth in the mean: a garbage collection that falls inside one run does not count as the model being slow), send
 * runs to the thread.
 */
export const INLINE_SLOW_MS = 3;

/** Runs on the loop not timed, at a session's start. */
const WARM_UP_RUNS = 3;

/**
 * A small CPU model's session that runs one image at a time on the event loop while that stays quick, and
 * everything else on its thread (a ThreadedSession, which it wraps).
 *
 * The thread keeps long runs off the event loop, but a run there costs a hand-over each way: for the shipped
 * classifier, 0.95-1.02 ms of CPU and 1.0 ms of wall time per run on its thread against 0.53-0.55 and 0.5 on
 * the loop, measured alone (docs/performance.md). So a run of one item goes to a second session of the same
 * model, on the loop, until its runs hold the loop longer than INLINE_SLOW_MS on average; runs then go to the
 * thread for a minute before the loop is tried again. Batches always go to the thread: they are the runs that take
 * long, and they come when the loop is busy.
 */
export class InlineWhenQuick implements ModelSession {
  /** Runs made on the loop so far. */
  private runs = 0;
  private released = false;

  private constructor(
    private readonly threaded: ModelSession,
    private readonly inline: ort.InferenceSession,
    private readonly quick: QuickOnLoop,
  ) {}

  /** Wraps `threaded` with a session of the same model and options on this thread; releases neither on failure. */
  static async create(
    threaded: ModelSession,
    modelPath: string,
    options: ort.InferenceSession.SessionOptions,
    quick = new QuickOnLoop({ slowMs: INLINE_SLOW_MS, elsewhereMs: 60_000, smoothing: 0.1 }),
  ): Promise<InlineWhenQuick> {
    return new InlineWhenQuick(threaded, await ort.InferenceSession.create(modelPath, options), quick);
  }

  get inputNames(): readonly string[] {
    return this.threaded.inputNames;
  }
  get outputNames(): readonly string[] {
    return this.threaded.outputNames;
  }
  get inputMetadata(): readonly ort.InferenceSession.ValueMetadata[] {
    return this.threaded.inputMetadata;
  }
  get outputMetadata(): readonly ort.InferenceSession.ValueMetadata[] {
    return this.threaded.outputMetadata;
  }

  run(feeds: ort.InferenceSession.FeedsType, fetches?: readonly string[]): Promise<ort.InferenceSession.ReturnType> {
    // Released: the thread's session answers as every released session does.
    if (this.released || this.quick.elsewhere || !Object.values(feeds).every((t) => t.dims[0] === 1))
      return this.threaded.run(feeds, fetches);
    // onnxruntime-node runs a session synchronously, in a setImmediate of its own queued by run(): this one,
    // queued just before, starts the clock when the run is about to start, so a run is timed by how long it holds
    // the loop, not by how long it waited for the loop's turn.
    let started = 0;
    setImmediate(() => (started = this.quick.now()));
    const run = fetches ? this.inline.run(feeds, [...fetches]) : this.inline.run(feeds);
    // The first runs of a session are slow (its buffers are allocated then), and say nothing about the rest.
    const counts = ++this.runs > WARM_UP_RUNS;
    return run.finally(() => {
      if (counts) this.quick.took(this.quick.now() - started);
    });
  }

  async release(): Promise<void> {
    this.released = true;
    await Promise.all([this.threaded.release(), this.inline.release()]);
  }
}
