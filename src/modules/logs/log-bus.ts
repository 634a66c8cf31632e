import { randomUUID } from 'node:crypto';
import type { PubSub } from '../../infra/messaging/pubsub';
import type { LogEntry, LogQuery, LogRing } from '../../infra/observability/log-ring';
import type { ProcessIdentity } from '../../infra/observability/process-info';

/** The process a line comes from. */
export type LogSource = Pick<ProcessIdentity, 'id' | 'role' | 'host' | 'pid'>;

/** A line with the process that wrote it. */
export interface SourcedLine extends LogEntry {
  source: LogSource;
}

/** What serverLogs gathered: the lines, and which processes answered. */
export interface GatheredLogs {
  lines: SourcedLine[];
  sources: Array<{ source: LogSource; answered: boolean }>;
}

// Topics (the pub/sub adds the deployment's Redis prefix).
const QUERY = 'LOGS_QUERY';
const REPLY = 'LOGS_REPLY';
const LINES = 'LOGS_LINES';
const INTEREST = 'LOGS_INTEREST';
/** A process that just started asks whether anyone tails (so it need not wait for the next announcement). */
const HELLO = 'LOGS_HELLO';

/** A tailing process re-announces itself this often; a process hearing it publishes its lines for TAIL_HOLD_MS. */
const ANNOUNCE_MS = 10_000;
const TAIL_HOLD_MS = 30_000;
/** Lines gathered before publishing them together (one Redis message per process per flush). */
const FLUSH_MS = 100;
/** Lines waiting for a flush; beyond it the oldest are dropped (a tail is best effort, logging is not slowed). */
const MAX_BUFFERED = 2000;
/**
 * A process that starts publishing sends the lines of this last stretch first: those written while the
 * announcement travelled (a new worker's start-up lines) would otherwise never reach the tail.
 */
const BACKFILL_MS = 3000;

interface QueryMessage {
  id: string;
  replyTo: string;
  query: LogQuery;
}
interface ReplyMessage {
  id: string;
  source: LogSource;
  entries: LogEntry[];
}
interface LinesMessage {
  source: LogSource;
  entries: LogEntry[];
}

export interface LogBusDeps {
  pubSub: PubSub;
  ring: LogRing;
  identity: ProcessIdentity;
  /** The other processes expected to answer a query (those seen in the last minute). */
  peers(): Promise<LogSource[]>;
  /** How long a query waits for processes that have not answered. */
  timeoutMs?: number;
  /**
   * Whether a publish can go out now. The Redis pub/sub does not report a failed PUBLISH to its caller
   * (the rejection would be unhandled), so nothing is published while the connection is down.
   */
  connected?: () => boolean;
}

/**
 * Log lines across processes over the pub/sub (Redis when configured, else in memory):
 *
 * - serverLogs: the asking process publishes a query; every process answers from its own ring on the
 *   asker's reply topic; the asker waits for the processes seen in the last minute (or the timeout)
 *   and merges by time. Nothing is copied anywhere until someone asks.
 * - serverLogStream: a process with a live tail announces it; processes that heard an announcement
 *   in the last TAIL_HOLD_MS publish their new lines in batches; every tail filters by level. With no
 *   tail anywhere, no line leaves its process.
 */
export class LogBus {
  private readonly stops: Array<() => void> = [];
  private readonly pending = new Map<string, { replies: Map<string, ReplyMessage>; settle: () => void }>();
  private readonly source: LogSource;
  private tailingUntil = 0;
  private localTails = 0;
  private announcer: NodeJS.Timeout | null = null;
  private buffer: LogEntry[] = [];
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: LogBusDeps) {
    const { id, role, host, pid } = deps.identity;
    this.source = { id, role, host, pid };
  }

  start(): void {
    const { pubSub, ring } = this.deps;
    this.stops.push(
      listen(pubSub, QUERY, undefined, (m) => this.answer(m as QueryMessage)),
      listen(pubSub, REPLY, this.source.id, (m) => {
        const r = m as ReplyMessage;
        const p = this.pending.get(r.id);
        if (p) {
          p.replies.set(r.source.id, r);
          p.settle();
        }
      }),
      listen(pubSub, INTEREST, undefined, () => this.heardInterest()),
      listen(pubSub, HELLO, undefined, () => {
        if (this.localTails > 0) this.send(INTEREST, { from: this.source.id });
      }),
      ring.onLine((e) => this.forward(e)),
    );
    this.send(HELLO, { from: this.source.id });
  }

  /** The newest `query.limit` lines of every process that answers within the timeout, oldest first. */
  async gather(query: LogQuery): Promise<GatheredLogs> {
    const peers = (await this.deps.peers().catch(() => [] as LogSource[])).filter((p) => p.id !== this.source.id);
    const expected = new Map<string, LogSource>([
      [this.source.id, this.source],
      ...peers.map((p) => [p.id, p] as const),
    ]);
    const id = randomUUID();
    const replies = new Map<string, ReplyMessage>();
    // This process answers from its own ring directly: with Redis down, its lines are still there.
    replies.set(this.source.id, { id, source: this.source, entries: this.deps.ring.query(query) });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.deps.timeoutMs ?? 1500);
      timer.unref();
      const settle = () => {
        if ([...expected.keys()].every((k) => replies.has(k))) {
          clearTimeout(timer);
          resolve();
        }
      };
      this.pending.set(id, { replies, settle });
      settle(); // no other process expected: done already
      this.send(QUERY, { id, replyTo: this.source.id, query } satisfies QueryMessage);
    });
    this.pending.delete(id);
    const lines = [...replies.values()]
      .flatMap((r) => r.entries.map((e) => ({ ...e, source: r.source })))
      .sort((a, b) => a.time - b.time || a.source.id.localeCompare(b.source.id) || a.seq - b.seq)
      .slice(-query.limit);
    // Every process that answered, and every expected one that did not.
    const sources = [...new Map([...expected, ...[...replies.values()].map((r) => [r.source.id, r.source] as const)])]
      .map(([key, source]) => ({ source, answered: replies.has(key) }))
      .sort((a, b) => a.source.role.localeCompare(b.source.role) || a.source.id.localeCompare(b.source.id));
    return { lines, sources };
  }

  /**
   * Lines of every process at `minLevel` and above from now on, until the consumer stops. A plain
   * iterator, not an async generator: a generator's return() waits for its pending await (the next
   * message, which may never come), while this one's ends the subscription at once.
   */
  tail(minLevel: number): AsyncIterableIterator<SourcedLine> {
    const it = this.deps.pubSub.subscribe(LINES)[Symbol.asyncIterator]();
    this.localTails++;
    this.announce();
    const ready: SourcedLine[] = [];
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      if (--this.localTails === 0 && this.announcer) {
        clearInterval(this.announcer);
        this.announcer = null;
      }
      void it.return?.();
    };
    const done = (): IteratorResult<SourcedLine> => ({ done: true, value: undefined });
    return {
      next: async () => {
        while (!ready.length) {
          if (ended) return done();
          const r = await it.next().catch((e: unknown) => {
            end();
            throw e;
          });
          if (r.done) {
            end();
            return done();
          }
          const m = r.value as LinesMessage;
          for (const e of m.entries) if (e.level >= minLevel) ready.push({ ...e, source: m.source });
        }
        return { done: false, value: ready.shift()! };
      },
      return: async () => {
        end();
        return done();
      },
      throw: async (e: unknown) => {
        end();
        throw e;
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  close(): void {
    for (const stop of this.stops.splice(0)) stop();
    if (this.announcer) clearInterval(this.announcer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.announcer = this.flushTimer = null;
  }

  private send(topic: string, ...args: unknown[]): void {
    if (this.deps.connected && !this.deps.connected()) return;
    this.deps.pubSub.publish(topic, ...args);
  }

  private answer(m: QueryMessage): void {
    if (m.replyTo === this.source.id) return; // answered in gather
    const entries = this.deps.ring.query(m.query);
    this.send(REPLY, m.replyTo, { id: m.id, source: this.source, entries } satisfies ReplyMessage);
  }

  private announce(): void {
    this.send(INTEREST, { from: this.source.id });
    this.announcer ??= setInterval(() => this.send(INTEREST, { from: this.source.id }), ANNOUNCE_MS);
    this.announcer.unref();
  }

  private heardInterest(): void {
    const now = Date.now();
    const wasTailing = now <= this.tailingUntil;
    this.tailingUntil = now + TAIL_HOLD_MS;
    if (!wasTailing)
      for (const e of this.deps.ring.query({ minLevel: 0, since: now - BACKFILL_MS, limit: MAX_BUFFERED }))
        this.forward(e);
  }

  /** A line of this process: kept for the next batch while some process tails. */
  private forward(e: LogEntry): void {
    if (Date.now() > this.tailingUntil) return;
    this.buffer.push(e);
    if (this.buffer.length > MAX_BUFFERED) this.buffer.splice(0, this.buffer.length - MAX_BUFFERED);
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = null;
      const entries = this.buffer;
      this.buffer = [];
      if (entries.length) this.send(LINES, { source: this.source, entries } satisfies LinesMessage);
    }, FLUSH_MS);
    this.flushTimer.unref();
  }
}

/**
 * Calls `handler` with every message on the topic until the returned function is called. A listener
 * that fell too far behind (the pub/sub ends it) subscribes again: it misses messages, never stops.
 */
function listen(pubSub: PubSub, topic: string, id: unknown, handler: (m: unknown) => void): () => void {
  let stopped = false;
  let it = pubSub.subscribe(topic, id)[Symbol.asyncIterator]();
  void (async () => {
    while (!stopped) {
      const r = await it.next().then(
        (v) => v,
        () => null,
      );
      if (r === null) {
        if (!stopped) it = pubSub.subscribe(topic, id)[Symbol.asyncIterator]();
        continue;
      }
      if (r.done) return;
      try {
        handler(r.value);
      } catch {
        // One bad message must not stop the listener.
      }
    }
  })();
  return () => {
    stopped = true;
    void it.return?.();
  };
}
