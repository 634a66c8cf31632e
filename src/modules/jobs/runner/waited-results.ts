/** A result row as its table holds it: column names, driver-typed values (what `em.map` takes). */
export type ColumnRow = Record<string, unknown>;

/**
 * Predictions this process has just stored for jobs that a request in this same process waits on
 * (uploadImages with classify and wait, inline mode), so that its answer is made from them instead of
 * reading them back: one round trip fewer per request. The request says which jobs it waits on before
 * they are queued; the runner hands over their rows as they land; the request takes them once the jobs
 * ended. Rows of jobs nobody waits on here are never kept, and taken ones are forgotten.
 */
export class WaitedResults {
  private readonly waiting = new Map<string, ColumnRow[]>();

  /** A request in this process will answer with `jobId`'s predictions: keep them as they land. */
  expect(jobId: string): void {
    this.waiting.set(jobId, []);
  }

  /** Whether a request here waits on `jobId` (so the runner makes its rows only for those). */
  waitsOn(jobId: string): boolean {
    return this.waiting.has(jobId);
  }

  /** Rows just stored for `jobId` (ignored unless a request waits on it). */
  landed(jobId: string, rows: readonly ColumnRow[]): void {
    this.waiting.get(jobId)?.push(...rows);
  }

  /** The rows kept for `jobId`, and the job forgotten. */
  take(jobId: string): ColumnRow[] {
    const rows = this.waiting.get(jobId) ?? [];
    this.waiting.delete(jobId);
    return rows;
  }

  /** Jobs waited on now (for tests). */
  get size(): number {
    return this.waiting.size;
  }
}
