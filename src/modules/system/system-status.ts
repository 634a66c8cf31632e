import { packageVersion } from '../../infra/paths';
import { DependencyState, type DependencyStatus, type SystemStatus } from './system.types';
import type { Services } from '../../schema/context';

async function timed(check: () => Promise<boolean>): Promise<{ ok: boolean; ms: number }> {
  const t = process.hrtime.bigint();
  const ok = await check();
  return { ok, ms: Number(process.hrtime.bigint() - t) / 1e6 };
}

/** What /readyz and `systemStatus` report about the process and its backing services. */
export async function systemStatus(services: Pick<Services, 'db' | 'redis' | 'startedAt'>): Promise<SystemStatus> {
  const [db, redis] = await Promise.all([
    timed(() => services.db.ping()),
    services.redis ? timed(() => services.redis!.ping()) : null,
  ]);
  const database: DependencyStatus = {
    kind: services.db.embedded ? 'pglite' : 'postgresql',
    state: db.ok ? DependencyState.UP : DependencyState.DOWN,
    latencyMs: db.ms,
  };
  const redisStatus: DependencyStatus = redis
    ? { kind: 'redis', state: redis.ok ? DependencyState.UP : DependencyState.DOWN, latencyMs: redis.ms }
    : { kind: 'memory', state: DependencyState.EMBEDDED, latencyMs: null };
  return {
    version: packageVersion,
    nodeVersion: process.version,
    uptimeSeconds: (Date.now() - services.startedAt.getTime()) / 1000,
    startedAt: services.startedAt,
    database,
    redis: redisStatus,
  };
}
