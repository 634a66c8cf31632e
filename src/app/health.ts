import { Router } from 'express';
import type { Services } from '../schema/context';
import { DependencyState, systemStatus } from '../modules/system';

/**
 * /healthz: the process is alive (for restarts). /readyz: it can serve (for load balancers):
 * database answers, Redis answers when configured, and every readiness check registered by a
 * feature (e.g. the model registry loaded) passes. /metrics: Prometheus text format.
 */
export function healthRouter(
  services: Services,
  readinessChecks: Array<() => Promise<{ name: string; ok: boolean }>> = [],
): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const status = await systemStatus(services);
    const extra = await Promise.all(readinessChecks.map((c) => c()));
    const checks = {
      database: status.database.state,
      redis: status.redis.state,
      ...Object.fromEntries(extra.map((c) => [c.name, c.ok ? DependencyState.UP : DependencyState.DOWN])),
    };
    const ready = Object.values(checks).every((s) => s !== DependencyState.DOWN);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });
  router.get('/metrics', async (_req, res) => {
    res.type(services.metrics.registry.contentType).send(await services.metrics.registry.metrics());
  });
  return router;
}
