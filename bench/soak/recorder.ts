import { quantile } from '../harness';

/** What one GraphQL call over HTTP answered: its HTTP status (0 when no answer came) and its body. */
export interface Answer {
  status: number;
  data?: any;
  errors?: Array<{ message: string; extensions?: { code?: string } & Record<string, unknown> }>;
}

/** The code a failed answer is counted under: the GraphQL code, else HTTP_<status>, else NETWORK. */
export function failureCode(a: Answer): string | null {
  if (a.status === 0) return 'NETWORK';
  if (a.errors?.length) return a.errors[0].extensions?.code ?? `HTTP_${a.status}`;
  if (a.status >= 400) return `HTTP_${a.status}`;
  return null;
}

/** A window of the run where a fault was injected (from injection to the first success after it, plus grace). */
export interface FaultWindow {
  name: string;
  from: number;
  to: number;
}

/**
 * Latencies of successful operations, failures by operation and code, and each HTTP 5xx or
 * network failure with its time, so those inside an injected fault's window are told apart.
 */
export class Recorder {
  readonly t0 = Date.now();
  private readonly ok = new Map<string, number[]>();
  private readonly failed = new Map<string, Map<string, number>>();
  readonly serverFailures: Array<{ at: number; op: string; code: string; status: number }> = [];
  readonly faults: FaultWindow[] = [];
  /** Every timed call: when it started and ended (ms epoch) and the code it failed with, null when it succeeded. */
  readonly calls: Array<{ op: string; start: number; end: number; code: string | null }> = [];

  /** Times `call`, records its outcome under `op` and returns its answer. */
  async time(op: string, call: () => Promise<Answer>): Promise<Answer> {
    const start = performance.now();
    const startedAt = Date.now();
    const answer = await call().catch((err: Error): Answer => ({ status: 0, errors: [{ message: err.message }] }));
    const ms = performance.now() - start;
    const code = failureCode(answer);
    this.calls.push({ op, start: startedAt, end: Date.now(), code });
    if (code === null) this.success(op, ms);
    else this.failure(op, code, answer.status);
    return answer;
  }

  success(op: string, ms: number): void {
    let list = this.ok.get(op);
    if (!list) this.ok.set(op, (list = []));
    list.push(ms);
  }

  failure(op: string, code: string, status = 200): void {
    let byCode = this.failed.get(op);
    if (!byCode) this.failed.set(op, (byCode = new Map()));
    byCode.set(code, (byCode.get(code) ?? 0) + 1);
    if (status === 0 || status >= 500 || code === 'INTERNAL_SERVER_ERROR')
      this.serverFailures.push({ at: Date.now(), op, code, status });
  }

  /** 5xx, network failures and INTERNAL_SERVER_ERRORs outside every fault window. */
  outsideFaults() {
    return this.serverFailures.filter((f) => !this.faults.some((w) => f.at >= w.from && f.at <= w.to));
  }

  operations(): Array<Record<string, string | number>> {
    const ops = [...new Set([...this.ok.keys(), ...this.failed.keys()])].sort();
    const seconds = (Date.now() - this.t0) / 1000;
    return ops.map((op) => {
      const ms = this.ok.get(op) ?? [];
      const failures = [...(this.failed.get(op)?.entries() ?? [])];
      return {
        operation: op,
        ok: ms.length,
        'per s': ms.length / seconds,
        'p50 ms': quantile(ms, 0.5),
        'p95 ms': quantile(ms, 0.95),
        'p99 ms': quantile(ms, 0.99),
        failed: failures.reduce((a, [, n]) => a + n, 0),
        'failed by code': failures.map(([c, n]) => `${c} ${n}`).join(', ') || '-',
      };
    });
  }

  errorsByCode(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const byCode of this.failed.values()) for (const [c, n] of byCode) out[c] = (out[c] ?? 0) + n;
    return out;
  }
}
