/**
 * The last log lines of one process, kept in memory for `serverLogs` and handed to live tails as
 * they are written. A bounded ring: the oldest line goes when a new one comes, so a burst of
 * logging costs a fixed amount of memory. Lines are pino's JSON text (already redacted); only the
 * level and the time are read out of them here.
 */

/** pino's numeric levels by name. */
export const LOG_LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;
export type LogLevelName = keyof typeof LOG_LEVELS;

/** A line kept by the ring. */
export interface LogEntry {
  /** Order of writing in this process (starts at 1). */
  seq: number;
  /** Epoch milliseconds when it was written. */
  time: number;
  /** pino's numeric level. */
  level: number;
  /** The JSON line as written (no trailing newline), cut at MAX_LINE_CHARS. */
  line: string;
}

/** A longer line is kept cut (a stack trace or a large object must not fill the ring's memory). */
export const MAX_LINE_CHARS = 8192;

export interface LogQuery {
  /** Lines at this level and above. */
  minLevel: number;
  /** Lines written at or after this epoch millisecond. */
  since?: number | null;
  /** The newest `limit` matching lines. */
  limit: number;
}

const LEVEL_FIELD = /"level":(\d+)/;

export class LogRing {
  private readonly lines: (LogEntry | undefined)[];
  private next = 0;
  private seq = 0;
  private readonly listeners = new Set<(e: LogEntry) => void>();

  constructor(readonly capacity: number) {
    this.lines = new Array<LogEntry | undefined>(Math.max(0, capacity));
  }

  /** Takes one line as pino writes it. Listeners run even when the ring keeps nothing (capacity 0). */
  push(text: string): void {
    const line = (text.endsWith('\n') ? text.slice(0, -1) : text).slice(0, MAX_LINE_CHARS);
    const level = Number(LEVEL_FIELD.exec(line.slice(0, 200))?.[1] ?? LOG_LEVELS.info);
    const entry: LogEntry = { seq: ++this.seq, time: Date.now(), level, line };
    if (this.capacity > 0) {
      this.lines[this.next] = entry;
      this.next = (this.next + 1) % this.capacity;
    }
    for (const l of this.listeners) {
      try {
        l(entry);
      } catch {
        // A tail's failure must never break logging.
      }
    }
  }

  /** The newest `limit` lines that match, oldest first. */
  query(q: LogQuery): LogEntry[] {
    const out: LogEntry[] = [];
    for (let i = 1; i <= this.capacity && out.length < q.limit; i++) {
      const e = this.lines[(this.next - i + this.capacity) % this.capacity];
      if (!e) break;
      if (q.since != null && e.time < q.since) break; // older from here on
      if (e.level >= q.minLevel) out.push(e);
    }
    return out.reverse();
  }

  /** Calls `listener` with every line written from now on; returns the unsubscribe. */
  onLine(listener: (e: LogEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
