import type Redis from 'ioredis';
import type { PubSub } from '../../infra/messaging/pubsub';
import type { JobStatus } from '../../entities/inference-job';
import type { CamMethod } from '../../inference/gradcam';
import { closableStream } from './closable-stream';

export const PROGRESS_TOPIC = 'INFERENCE_PROGRESS';

/** Stages in the order a job passes them (model/gradcam/persisted repeat per member / image). */
export const STAGES = [
  'queued',
  'preprocessing',
  'model',
  'ensembling',
  'metrics',
  'gradcam',
  'persisted',
  'rendering',
  'done',
  'failed',
  'cancelled',
] as const;
export type Stage = (typeof STAGES)[number];

/** The stages that end a job's events: succeeded, failed, or cancelled (cancelJob). */
export const isFinalStage = (stage: Stage): boolean => stage === 'done' || stage === 'failed' || stage === 'cancelled';

/** One progress event as published (the GraphQL InferenceProgressEvent is built from it). */
export interface ProgressEvent {
  jobId: string;
  /** 1, 2, ... in publish order over the whole job (all attempts), so a client can order and de-duplicate. */
  seq: number;
  at: string;
  stage: Stage;
  status: JobStatus;
  /** 0..1 over the whole job. */
  progress: number;
  attempt: number;
  imageId?: string | null;
  /** 0-based index of the image in the job, and the number of images. */
  imageIndex?: number | null;
  imageCount: number;
  /** Model stage: the member that ran, where it asked to run and where it ran. */
  model?: string | null;
  version?: string | null;
  requestedDevice?: string | null;
  device?: string | null;
  fallbackReason?: string | null;
  message?: string | null;
  predictionId?: string | null;
  segmentationId?: string | null;
  /** Grad-CAM stage: the files (file-store sha256) the URLs are signed for. */
  gradCam?: { method: CamMethod; mapSha256: string; imageSha256: string } | null;
}

export type NewProgressEvent = Omit<ProgressEvent, 'seq' | 'at'>;

/**
 * Events of a job in order, kept for a while so a subscriber that arrives after the job began
 * (it cannot subscribe before the mutation returns the id) still receives every stage.
 */
export interface ProgressLog {
  /** Appends and returns the event's sequence number (1-based, atomic across processes). */
  append(jobId: string, event: Omit<ProgressEvent, 'seq'>): Promise<number>;
  list(jobId: string): Promise<ProgressEvent[]>;
  /** Forgets a job's events (a retried job's events start again at 1). */
  clear(jobId: string): Promise<void>;
}

/** A log kept as JSON text, one event per item: the position is the sequence number. */
const parseLog = (items: string[]): ProgressEvent[] =>
  items.map((s, i) => ({ ...(JSON.parse(s) as Omit<ProgressEvent, 'seq'>), seq: i + 1 }));

interface KeptLog {
  events: string[];
  bytes: number;
  expires: number;
}

/**
 * The embedded log. Events are kept as JSON text, like the Redis list: an hour of a busy server's
 * events as objects is a heap of millions of small objects that every full garbage collection
 * walks (it slowed batch classification measurably); strings are single leaves.
 *
 * Bounded: a log is kept `ttlMs` (an hour), and the logs of finished jobs (their last event done, failed
 * or cancelled) at most `maxBytes` of text together, the longest finished first out. A one-image
 * classification with Grad-CAM leaves seven events, about 1.9 KB of text (measured), so at a hundred a
 * second an hour of them was most of a gigabyte; 64 MB keeps the last 30 000 or so. A subscriber to a finished
 * job whose log is gone gets the job's end from its row (JobService.progress). A running job's log is never
 * dropped before its time: its sequence numbers must not start again.
 */
export class MemoryProgressLog implements ProgressLog {
  /** Logs of jobs still running, and of finished ones, each in insertion order (oldest first). */
  private readonly running = new Map<string, KeptLog>();
  private readonly finished = new Map<string, KeptLog>();
  private finishedBytes = 0;

  constructor(
    private readonly ttlMs = 3_600_000,
    private readonly maxBytes = 64 * 1024 * 1024,
    private readonly now: () => number = Date.now,
  ) {}

  async append(jobId: string, event: Omit<ProgressEvent, 'seq'>): Promise<number> {
    this.expire();
    const text = JSON.stringify(event);
    let log = this.running.get(jobId);
    if (!log) {
      log = this.finished.get(jobId);
      // A finished job publishing again (a retry clears first): kept with the running ones until it ends again.
      if (log) this.dropFinished(jobId);
      log ??= { events: [], bytes: 0, expires: this.now() + this.ttlMs };
      this.running.set(jobId, log);
    }
    log.events.push(text);
    log.bytes += text.length;
    if (isFinalStage(event.stage)) {
      this.running.delete(jobId);
      this.finished.set(jobId, log);
      this.finishedBytes += log.bytes;
      for (const id of this.finished.keys()) {
        if (this.finishedBytes <= this.maxBytes) break;
        this.dropFinished(id);
      }
    }
    return log.events.length;
  }

  async list(jobId: string): Promise<ProgressEvent[]> {
    this.expire();
    return parseLog((this.running.get(jobId) ?? this.finished.get(jobId))?.events ?? []);
  }

  async clear(jobId: string): Promise<void> {
    this.running.delete(jobId);
    this.dropFinished(jobId);
  }

  /**
   * Logs past their time, from the front of each map. The running map is in order of expiry; the finished one in
   * order of finishing, so a log that began early and finished late may outstay its hour behind younger ones,
   * still within maxBytes.
   */
  private expire(): void {
    const now = this.now();
    for (const [id, log] of this.running) {
      if (log.expires > now) break;
      this.running.delete(id);
    }
    for (const [id, log] of this.finished) {
      if (log.expires > now) break;
      this.dropFinished(id);
    }
  }

  private dropFinished(jobId: string): void {
    const log = this.finished.get(jobId);
    if (!log) return;
    this.finished.delete(jobId);
    this.finishedBytes -= log.bytes;
  }
}

/** A Redis list per job (`<prefix>job-events:<id>`); RPUSH's reply is the sequence number. */
export class RedisProgressLog implements ProgressLog {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds = 3600,
  ) {}

  private key(jobId: string) {
    return `${this.prefix}job-events:${jobId}`;
  }

  async append(jobId: string, event: Omit<ProgressEvent, 'seq'>): Promise<number> {
    // The seq is known only after the push; store the event with a placeholder and let readers fill it from the index.
    const key = this.key(jobId);
    const [[, n]] = (await this.redis
      .multi()
      .rpush(key, JSON.stringify(event))
      .expire(key, this.ttlSeconds)
      .exec()) as [[null, number]];
    return n;
  }

  async list(jobId: string): Promise<ProgressEvent[]> {
    return parseLog(await this.redis.lrange(this.key(jobId), 0, -1));
  }

  async clear(jobId: string): Promise<void> {
    await this.redis.del(this.key(jobId));
  }
}

/** Appends to the log, then publishes on the job's channel (any process's subscribers hear it). */
export class ProgressPublisher {
  constructor(
    private readonly log: ProgressLog,
    private readonly pubSub: PubSub,
  ) {}

  async publish(event: NewProgressEvent): Promise<ProgressEvent> {
    const at = new Date().toISOString();
    const seq = await this.log.append(event.jobId, { ...event, at });
    const full: ProgressEvent = { ...event, at, seq };
    this.pubSub.publish(PROGRESS_TOPIC, event.jobId, full);
    return full;
  }

  /** Forgets a job's events: retryJob starts its stream again (a stream replaying the log would end at the old `failed`). */
  reset(jobId: string): Promise<void> {
    return this.log.clear(jobId);
  }

  /** The events kept for a job (empty once its log has expired). */
  history(jobId: string): Promise<ProgressEvent[]> {
    return this.log.list(jobId);
  }

  /**
   * Every event of the job in order: what the log holds, then live ones, without gaps or
   * repeats; ends after `done`, `failed` or `cancelled`. Subscribes before reading the log so nothing
   * published in between is missed. Its `return()` (a client closing the subscription) releases the
   * pub/sub subscription at once, also while waiting for an event that may never come.
   */
  stream(jobId: string): AsyncIterableIterator<ProgressEvent> {
    const live = this.pubSub.subscribe(PROGRESS_TOPIC, jobId)[Symbol.asyncIterator]();
    const events = this.replayThenLive(jobId, live);
    // Ending `live` also ends the generator: its pump sees done and wakes the wait for the next event.
    return closableStream(
      () => events,
      () => void live.return?.(),
    );
  }

  private async *replayThenLive(jobId: string, live: AsyncIterator<unknown>): AsyncGenerator<ProgressEvent> {
    const pending: ProgressEvent[] = [];
    const signal: { wake: (() => void) | null } = { wake: null };
    let ended = false;
    // Pull live events into a buffer while the log is read.
    const pump = (async () => {
      try {
        for (;;) {
          const r = await live.next();
          if (r.done) break;
          pending.push(r.value as ProgressEvent);
          signal.wake?.();
        }
      } finally {
        ended = true;
        signal.wake?.();
      }
    })();
    let last = 0;
    try {
      for (const e of await this.log.list(jobId)) {
        if (e.seq !== last + 1) continue;
        last = e.seq;
        yield e;
        if (isFinalStage(e.stage)) return;
      }
      for (;;) {
        pending.sort((a, b) => a.seq - b.seq);
        while (pending.length && pending[0].seq <= last) pending.shift();
        if (pending.length && pending[0].seq !== last + 1) {
          // A gap: an event raced past the log read; the log has it by now.
          for (const e of await this.log.list(jobId)) {
            if (e.seq === last + 1) {
              last = e.seq;
              yield e;
              if (isFinalStage(e.stage)) return;
            }
          }
          continue;
        }
        const next = pending.shift();
        if (next) {
          last = next.seq;
          yield next;
          if (isFinalStage(next.stage)) return;
          continue;
        }
        if (ended) return;
        await new Promise<void>((r) => (signal.wake = r));
        signal.wake = null;
      }
    } finally {
      await live.return?.();
      await pump.catch(() => undefined);
    }
  }
}
