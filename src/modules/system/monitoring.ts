import type { Registry } from 'prom-client';
import type { Config } from '../../infra/config';
import type { PubSub } from '../../infra/messaging/pubsub';
import type { RedisConnections } from '../../infra/messaging/redis';
import { logRingOf, type Logger } from '../../infra/observability/logger';
import {
  LoopDelayMonitor,
  memorySnapshot,
  processIdentity,
  type ProcessIdentity,
} from '../../infra/observability/process-info';
import type { ModelInfo } from '../../models-registry';
import { LogBus } from '../logs';
import { ProcessDirectory, type LoadedModel, type ProcessBeat } from './process-directory';
import { memoryHashes, redisHashes } from './shared-hashes';
import { UsageLedger } from './usage-ledger';

export interface MonitoringDeps {
  config: Pick<Config, 'MONITOR_INTERVAL_MS'>;
  redis: RedisConnections | null;
  pubSub: PubSub;
  /** The process's root logger (its ring is what serverLogs reads). */
  logger: Logger;
  role: ProcessIdentity['role'];
  startedAt?: Date;
  /** The model registry's view of its versions (loaded ones are reported per device). */
  models: { list(): ModelInfo[] };
  /** The process's Prometheus registry (usage is read from the registry's model metrics). */
  metricsRegistry: Registry;
}

/** What one process contributes to the deployment's monitoring, and reads of everyone's. */
export interface Monitoring {
  identity: ProcessIdentity;
  logs: LogBus;
  usage: UsageLedger;
  /** This process now. */
  snapshot(): ProcessBeat;
  /** Every process heard from in the last minute (this one as it is now). */
  processes(): Promise<ProcessBeat[]>;
  /** Heartbeat and usage written now (tests; also the last act of close). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** The model versions this process holds, by the device their session runs on. */
export function loadedModels(models: { list(): ModelInfo[] }): LoadedModel[] {
  return models
    .list()
    .flatMap((m) => m.versions)
    .filter((v) => v.loaded && v.device)
    .map((v) => ({ name: v.name, version: v.version, device: v.device!.actual, status: v.status, active: v.active }));
}

/**
 * Starts this process's part: its log lines answer serverLogs and feed live tails, a heartbeat
 * every MONITOR_INTERVAL_MS (memory, event-loop delay, models per device) and its model usage
 * flushed as often. Shared state lives in Redis when configured, else in this process.
 */
export function startMonitoring(deps: MonitoringDeps): Monitoring {
  const identity = processIdentity(deps.role, deps.startedAt);
  const hashes = deps.redis ? redisHashes(deps.redis.main, deps.redis.prefix) : memoryHashes();
  const directory = new ProcessDirectory(hashes);
  const usage = new UsageLedger(hashes, deps.metricsRegistry);
  const loop = new LoopDelayMonitor();
  const logs = new LogBus({
    pubSub: deps.pubSub,
    ring: logRingOf(deps.logger),
    identity,
    peers: async () => (await directory.seen()).map(({ id, role, host, pid }) => ({ id, role, host, pid })),
    connected: () => !deps.redis || deps.redis.main.status === 'ready',
  });
  logs.start();
  const log = deps.logger.child({ component: 'monitoring' });

  let lastLoop = loop.take();
  const snapshot = (fresh = false): ProcessBeat => {
    if (fresh) lastLoop = loop.take();
    return {
      id: identity.id,
      role: identity.role,
      host: identity.host,
      pid: identity.pid,
      startedAt: identity.startedAt.toISOString(),
      seenAt: new Date().toISOString(),
      memory: memorySnapshot(),
      eventLoopDelay: lastLoop,
      models: loadedModels(deps.models),
    };
  };
  // A failing Redis is logged once per outage, not at every beat.
  let failing = false;
  const flush = async () => {
    try {
      await Promise.all([directory.beat(snapshot(true)), usage.flush()]);
      if (failing) log.info('heartbeat written again');
      failing = false;
    } catch (err) {
      if (!failing) log.warn({ err }, 'heartbeat or usage flush failed');
      failing = true;
    }
  };
  void flush();
  const timer = setInterval(() => void flush(), deps.config.MONITOR_INTERVAL_MS);
  timer.unref();

  let closing: Promise<void> | null = null;
  return {
    identity,
    logs,
    usage,
    snapshot: () => snapshot(false),
    async processes() {
      const seen = await directory.seen();
      return [snapshot(false), ...seen.filter((p) => p.id !== identity.id)].sort(
        (a, b) => a.role.localeCompare(b.role) || a.host.localeCompare(b.host) || a.pid - b.pid,
      );
    },
    flush,
    close: () =>
      (closing ??= (async () => {
        clearInterval(timer);
        // The last usage counted here is kept; the process leaves the directory at once.
        await usage.flush().catch(() => undefined);
        await directory.remove(identity.id).catch(() => undefined);
        logs.close();
        loop.stop();
      })()),
  };
}
