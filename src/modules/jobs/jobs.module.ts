import type { Config, JobsConfig, SeverityConfig } from '../../infra/config';
import type { PubSub } from '../../infra/messaging/pubsub';
import type { RedisConnections } from '../../infra/messaging/redis';
import type { Database } from '../../infra/database/database';
import type { Logger } from '../../infra/observability/logger';
import type { Metrics } from '../../infra/observability/metrics';
import type { ModelRegistry } from '../../models-registry';
import { createFileStore, type FileStore } from '../../infra/storage/file-store';
import { MemoryJobQueue } from './queue/memory-queue';
import { MemberSessions } from './runner/members';
import { ImageThreads, type ImageWork } from './runner/image-threads';
import { PixelBudget } from './runner/pixel-budget';
import { JobMetrics } from './metrics';
import { MemoryProgressLog, ProgressPublisher, RedisProgressLog } from './progress';
import { DEFAULT_RETRY, type JobConsumer, type JobQueue, type RetryPolicy } from './queue/queue';
import { JobRunner, type KindHandler } from './runner/runner';
import type { JobKind } from '../../entities/inference-job';
import { JobService } from './api/jobs.service';
import { JobControlService } from './api/job-control.service';
import { JobCancellations } from './runner/cancellation';
import { JobRepository } from './job.repository';
import { ResultRepository } from './results.repository';
import { DecodedPixels } from './runner/decoded-pixels';
import { WaitedResults } from './runner/waited-results';
import { InRequestClassifier } from './runner/in-request';

/** The jobs layer of a process (the api, or `dermagraph worker`): what `Services.inference` holds. */
export interface JobsModule {
  service: JobService;
  /** The caller's job list and cancelJob. */
  control: JobControlService;
  /** Every statement on inference_jobs / on the result tables. */
  jobs: JobRepository;
  results: ResultRepository;
  queue: JobQueue;
  progress: ProgressPublisher;
  files: FileStore;
  /** Full-resolution image work off the event loop (segmentation finishing, overlays on request). */
  images: ImageWork;
  /** The pixels this process's segmentations may hold at once (used where it runs jobs). */
  pixels: PixelBudget;
  /** Present where this process runs jobs (embedded/inline api, or a worker). */
  runner: JobRunner | null;
  /** Lets another module run the jobs of its kind where this process runs jobs (a no-op elsewhere). */
  registerKind(kind: JobKind, handler: KindHandler): void;
  /** 'inline': this process runs jobs; 'queue': BullMQ workers do. */
  mode: 'inline' | 'queue';
  /** Inline mode: the predictions of jobs a request here waits on, for its answer (none in queue mode). */
  waited?: WaitedResults;
  /** Inline mode: uploadImages with classify and wait classifies in the request (none in queue mode). */
  inRequest?: InRequestClassifier;
  /**
   * Queues again the jobs a stopped process left QUEUED or RUNNING (embedded mode keeps its queue in
   * memory: none is lost; a RUNNING one resumes, skipping images already stored). Returns how many.
   */
  requeueUnfinished(): Promise<number>;
  /** Stops taking jobs, lets running ones finish (up to timeoutMs), releases sessions. */
  close(timeoutMs?: number): Promise<void>;
}

export interface JobsDeps {
  config: Config;
  db: Database;
  redis: RedisConnections | null;
  pubSub: PubSub;
  logger: Logger;
  metrics: Metrics;
  registry: ModelRegistry;
  files?: FileStore;
  /** 'api' (the server) or 'worker' (`dermagraph worker`: consumes the BullMQ queue). */
  role: 'api' | 'worker';
}

/** Where jobs run: JOB_MODE=inline runs them in this process even with Redis; auto uses BullMQ when REDIS_URL is set. */
export function jobMode(config: JobsConfig, redis: RedisConnections | null): 'inline' | 'queue' {
  if (config.JOB_MODE === 'inline' || !redis) return 'inline';
  return 'queue';
}

export function retryPolicy(config: JobsConfig): RetryPolicy {
  return { attempts: config.JOB_ATTEMPTS, baseDelayMs: DEFAULT_RETRY.baseDelayMs };
}

/**
 * Builds the jobs layer for an api process or a worker: progress (Redis list + pub/sub when
 * configured), the queue, and where this process runs jobs, the runner with its sessions.
 */
export async function createJobsModule(deps: JobsDeps): Promise<JobsModule> {
  const { config, redis, logger } = deps;
  const files = deps.files ?? createFileStore(config.dataDir);

  const log = redis ? new RedisProgressLog(redis.main, redis.prefix) : new MemoryProgressLog();
  const progress = new ProgressPublisher(log, deps.pubSub);
  const mode = deps.role === 'worker' ? 'queue' : jobMode(config, redis);
  const retry = retryPolicy(config);
  let queue: JobQueue;
  let runner: JobRunner | null = null;
  let consumer: JobConsumer | null = null;
  let sessions: MemberSessions | null = null;
  const jobMetrics = new JobMetrics(deps.metrics.registry, () => queue.depth());
  const images = new ImageThreads(config.IMAGE_THREADS, (task, seconds) =>
    jobMetrics.imageTaskSeconds.observe({ task }, seconds),
  );
  const onError = (jobId: string, err: unknown, final: boolean) =>
    logger.warn({ jobId, err: (err as Error).message, final }, 'inference job attempt failed');
  const jobs = new JobRepository();
  const results = new ResultRepository(jobs);
  const cancellations = new JobCancellations(deps.pubSub);
  // Swapped-out versions stay loaded while queued jobs pinned them. The pins are derived from the
  // job rows themselves (a version is pinned while a job that named it is QUEUED or RUNNING, in any
  // process), not booked: a crashed process leaves no stale pin behind, and a job's pins end with
  // the statement that finishes it.
  deps.registry.usePins((name, version) => jobs.countPinning(deps.db.orm.em.fork(), name, version));

  // Inline mode: uploads hand the jobs that follow them their decoded pixels (DecodedPixels).
  const decoded = mode === 'inline' ? new DecodedPixels() : undefined;
  // Inline mode: a request waiting on its jobs answers with the predictions they stored (WaitedResults).
  const waited = mode === 'inline' ? new WaitedResults() : undefined;
  const pixels = new PixelBudget(config.SEGMENT_MAX_PIXELS_IN_FLIGHT, (n) => jobMetrics.pixelsInFlight.set(n));
  const makeRunner = () => {
    const s = new MemberSessions(deps.registry);
    sessions = s;
    jobMetrics.deviceSessionCount = () => s.deviceSessionCount();
    return new JobRunner({
      orm: deps.db.orm,
      jobs,
      results,
      files,
      registry: deps.registry,
      sessions,
      progress,
      metrics: jobMetrics,
      severity: severityOf(config),
      abstain: config,
      logger,
      imageConcurrency: config.JOB_IMAGE_CONCURRENCY,
      images,
      pixels,
      cancellations,
      decoded,
      waited,
    });
  };

  let inRequest: InRequestClassifier | undefined;
  if (mode === 'inline') {
    runner = makeRunner();
    const r = runner;
    queue = new MemoryJobQueue((a) => r.run(a), config.JOB_CONCURRENCY, retry, onError);
    inRequest = new InRequestClassifier({
      sessions: sessions!,
      registry: deps.registry,
      decoded: decoded!,
      progress,
      metrics: jobMetrics,
      abstain: config,
      jobs,
      results,
      logger,
    });
  } else {
    // bullmq (about 190 modules) is loaded only by the processes that queue on it, not by inline ones.
    const { BullJobQueue, startBullWorker } = await import('./queue/bullmq-queue.js');
    const connection = { url: redis!.url, ...redis!.options() };
    queue = new BullJobQueue({ connection, prefix: redis!.prefix, retry, watch: redis!.watch });
    if (deps.role === 'worker') {
      runner = makeRunner();
      const r = runner;
      consumer = startBullWorker((a) => r.run(a), {
        connection,
        prefix: redis!.prefix,
        retry,
        watch: redis!.watch,
        concurrency: config.JOB_CONCURRENCY,
        lockMs: config.JOB_LOCK_MS,
        onError,
        onAbandoned: (jobId, reason) => r.abandon(jobId, reason),
      });
    }
  }

  const service = new JobService({ config, registry: deps.registry, queue, progress, jobs, results, decoded, files });
  const control = new JobControlService({
    jobs,
    queue,
    progress,
    cancellations,
    findJob: (em, user, id) => service.findJob(em, user, id),
  });
  let closing: Promise<void> | null = null;
  return {
    service,
    control,
    jobs,
    results,
    queue,
    progress,
    files,
    images,
    pixels,
    runner,
    mode,
    waited,
    inRequest,
    registerKind: (kind, handler) => runner?.registerKind(kind, handler),
    requeueUnfinished: async () => {
      const ids = await jobs.unfinishedIds(deps.db.orm.em.fork());
      for (const id of ids) await queue.enqueue(id);
      return ids.length;
    },
    close: (timeoutMs = config.SHUTDOWN_TIMEOUT_MS) =>
      (closing ??= (async () => {
        await consumer?.close(timeoutMs);
        await queue.close(timeoutMs);
        await (sessions as MemberSessions | null)?.close();
        await images.close();
        await cancellations.close();
      })()),
  };
}

/** The severity thresholds the config sets (SEVERITY_*). */
export function severityOf(config: SeverityConfig) {
  return {
    smallAreaPercent: config.SEVERITY_SMALL_AREA_PERCENT,
    largeAreaPercent: config.SEVERITY_LARGE_AREA_PERCENT,
    highCircularity: config.SEVERITY_HIGH_CIRCULARITY,
    lowCircularity: config.SEVERITY_LOW_CIRCULARITY,
  };
}
