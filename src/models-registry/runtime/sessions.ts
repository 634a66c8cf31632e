import { statSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { ThreadedSession, type ModelSession } from './threaded-session';
import { INLINE_MAX_MODEL_BYTES, InlineWhenQuick } from './inline-session';
import { executionProvider, placementOrder } from './devices';
import { packageError, RegistryError, shortError } from '../errors';

export interface Threads {
  /** Threads inside one operator; 0 lets onnxruntime choose. */
  intraOp: number;
  /** Threads across independent operators (used only in parallel execution mode). */
  interOp: number;
}

/** Where a session ended up, and why if not where it was asked to be. */
export interface Placement {
  requested: string;
  actual: string;
  /** `device: reason` for every device tried before `actual`, joined by "; "; null when no fallback. */
  fallbackReason: string | null;
  attempts: Array<{ device: string; error: string }>;
}

export interface PlacedSession {
  session: ModelSession;
  placement: Placement;
}

export interface CreateSessionOptions {
  /**
   * Run on a freshly created session (a warm-up inference); a throw counts as the device
   * failing and placement goes on down the chain. Providers such as webgpu can create a
   * session and still fail at the first run.
   */
  probe?: (session: ModelSession) => Promise<void>;
  /** Try only the device given (no fallback): a failure throws the device's own error. */
  exact?: boolean;
}

/** The providers this onnxruntime-node binary bundles (cpu and webgpu; cuda/tensorrt need extra libraries). */
export function bundledBackends(): string[] {
  return ort
    .listSupportedBackends()
    .filter((b) => b.bundled)
    .map((b) => b.name);
}

/**
 * Creates an onnxruntime session on the requested device (or preference list), falling down
 * the chain (tensorrt -> cuda -> cpu, webgpu -> cpu) when a provider cannot start, and
 * records what was asked for, what was got, and the real reason for each fallback.
 */
export async function createSession(
  modelPath: string,
  device: string | readonly string[],
  threads: Threads = { intraOp: 1, interOp: 1 },
  options: CreateSessionOptions = {},
): Promise<PlacedSession> {
  const order = options.exact && typeof device === 'string' ? [device] : placementOrder(device);
  const requested = typeof device === 'string' ? device : device[0];
  const attempts: Placement['attempts'] = [];
  for (const dev of order) {
    let session: ModelSession | undefined;
    try {
      const sessionOptions: ort.InferenceSession.SessionOptions = {
        executionProviders: [executionProvider(dev)],
        intraOpNumThreads: threads.intraOp,
        interOpNumThreads: threads.interOp,
        executionMode: threads.interOp > 1 ? 'parallel' : 'sequential',
        graphOptimizationLevel: 'all',
      };
      // Each session on a thread of its own: a long run never blocks the event loop. A small CPU model also
      // runs single images on the loop while they stay quick (InlineWhenQuick).
      session = await ThreadedSession.create(modelPath, sessionOptions);
      if (dev === 'cpu' && statSync(modelPath).size <= INLINE_MAX_MODEL_BYTES)
        session = await InlineWhenQuick.create(session, modelPath, sessionOptions);
      if (options.probe) await options.probe(session);
      const fallbackReason = attempts.length ? attempts.map((a) => `${a.device}: ${a.error}`).join('; ') : null;
      return { session, placement: { requested, actual: dev, fallbackReason, attempts } };
    } catch (e) {
      if (session) await session.release().catch(() => undefined);
      // A package error found by the probe (wrong inputs/outputs) is not the device's fault.
      if (e instanceof RegistryError && e.check !== undefined && e.check !== 'onnx.load') throw e;
      attempts.push({ device: dev, error: shortError(e) });
    }
  }
  // Even cpu failed: the model itself is at fault (not ONNX, unsupported op, failing probe).
  const last = attempts[attempts.length - 1];
  throw packageError('onnx.load', last.error, 'modelFile');
}
