import { EventEmitter } from 'node:events';
import { DelayedError, Queue, UnrecoverableError, Worker, type ConnectionOptions } from 'bullmq';
import { isConnectionFailure } from '../../../infra/database/connection-failure';
import type { RedisConnections } from '../../../infra/messaging/redis';
import { PermanentJobError, type JobConsumer, type JobHandler, type JobQueue, type RetryPolicy } from './queue';

export const QUEUE_NAME = 'inference';

export interface BullOptions {
  /** Redis URL and ioredis options (BullMQ opens its own connections). */
  connection: ConnectionOptions;
  /** Key prefix (the deployment's REDIS_PREFIX), so test runs sharing a Redis never meet. */
  prefix: string;
  retry: RetryPolicy;
  /** Where BullMQ's connection failures are logged (`RedisConnections.watch`); without it they go to stderr. */
  watch?: RedisConnections['watch'];
}

const bullPrefix = (prefix: string) => `${prefix}bull`;

/**
 * The api side with REDIS_URL: jobs go to a BullMQ queue (job id = InferenceJob id, so a
 * double enqueue is one job) and `dermagraph worker` processes run them.
 */
export class BullJobQueue implements JobQueue {
  readonly kind = 'bullmq' as const;
  private readonly queue: Queue;

  constructor(private readonly opts: BullOptions) {
    this.queue = new Queue(QUEUE_NAME, { connection: opts.connection, prefix: bullPrefix(opts.prefix) });
    if (opts.watch) {
      // The Queue relays its connection's errors, but not its 'reconnecting' and 'ready': its client has those.
      const client = new EventEmitter();
      opts.watch('jobs queue', client, this.queue);
      void this.queue.client.then(
        (c) => {
          c.on('reconnecting', () => client.emit('reconnecting'));
          c.on('ready', () => client.emit('ready'));
        },
        () => undefined, // a failed connection is reported through the Queue's 'error'
      );
    }
  }

  async enqueue(jobId: string): Promise<void> {
    await this.queue.add(
      'run',
      { jobId },
      {
        jobId,
        attempts: this.opts.retry.attempts,
        backoff: { type: 'exponential', delay: this.opts.retry.baseDelayMs },
        removeOnComplete: { age: 3600, count: 1000 },
        removeOnFail: { age: 24 * 3600 },
      },
    );
  }

  async remove(jobId: string): Promise<boolean> {
    // 0 when the job is locked (a worker runs it) or not there; a removed entry is gone for good.
    return (await this.queue.remove(jobId)) === 1;
  }

  async depth(): Promise<number> {
    return this.queue.getJobCountByTypes('wait', 'delayed', 'prioritized', 'paused');
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

export interface BullWorkerOptions extends BullOptions {
  concurrency: number;
  /**
   * How long a worker's lock on a job lasts without renewal: a killed worker's job is taken
   * over by another after about this long.
   */
  lockMs: number;
  onError?: (jobId: string, err: unknown, final: boolean) => void;
  /**
   * BullMQ gave the job up without the handler deciding it (stalled more often than allowed, i.e.
   * workers kept dying on it): the job row must still end FAILED.
   */
  onAbandoned?: (jobId: string, reason: string) => Promise<void>;
  /** How long a job waits after its attempt found the database (or Redis) unreachable (default 2 s). */
  unavailableDelayMs?: number;
}

/**
 * A worker process's consumer. BullMQ renews the lock while the handler runs; when the process
 * dies the lock lapses, the stalled-job check of any live worker moves the job back to wait and
 * it runs again (the handler starts from the InferenceJob row, so the rerun is complete on its own).
 */
export function startBullWorker(handler: JobHandler, opts: BullWorkerOptions): JobConsumer {
  const worker = new Worker(
    QUEUE_NAME,
    async (job, token) => {
      const jobId = String(job.data.jobId);
      const attempt = job.attemptsMade + job.stalledCounter + 1;
      const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      try {
        await handler({ jobId, attempt, final });
      } catch (err) {
        // The database was unreachable (a restart): the attempt could not even record its failure,
        // and its few quick retries would be spent within the outage, leaving the row QUEUED or
        // RUNNING for good. It waits and runs again instead, without using one of its attempts.
        if (token && !(err instanceof PermanentJobError) && isConnectionFailure(err)) {
          opts.onError?.(jobId, err, false);
          await job.moveToDelayed(Date.now() + (opts.unavailableDelayMs ?? 2000), token);
          throw new DelayedError();
        }
        const permanent = err instanceof PermanentJobError;
        opts.onError?.(jobId, err, final || permanent);
        if (permanent) throw new UnrecoverableError((err as Error).message);
        throw err;
      }
    },
    {
      connection: opts.connection,
      prefix: bullPrefix(opts.prefix),
      concurrency: opts.concurrency,
      lockDuration: opts.lockMs,
      stalledInterval: Math.max(500, Math.floor(opts.lockMs / 2)),
      maxStalledCount: opts.retry.attempts,
      autorun: true,
    },
  );
  // Connection failures are retried by ioredis and logged here (the Worker relays both of its connections' errors
  // and says 'ready' when its blocking connection is); job errors go through onError.
  if (opts.watch) opts.watch('jobs worker', worker);
  else worker.on('error', () => undefined);
  worker.on('failed', (job, err) => {
    if (job && /stalled more than allowable limit/i.test(err?.message ?? ''))
      void opts
        .onAbandoned?.(String(job.data.jobId), 'the job stalled too often (workers stopped while running it)')
        .catch(() => undefined);
  });
  return {
    async close(timeoutMs = 15_000) {
      // close() waits for active jobs to finish (graceful drain); force after the timeout.
      let timer: NodeJS.Timeout | undefined;
      const forced = new Promise<void>((r) => (timer = setTimeout(() => r(worker.close(true)), timeoutMs).unref()));
      await Promise.race([worker.close(), forced]);
      clearTimeout(timer);
    },
  };
}
