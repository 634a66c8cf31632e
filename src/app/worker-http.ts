import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Registry } from 'prom-client';

/** A readiness check of one dependency or feature (database, Redis, the models loaded). */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<boolean>;
}

export interface WorkerHttp {
  /** The port it listens on (WORKER_HTTP_PORT=0: the one it was given). */
  port: number;
  close(): Promise<void>;
}

/** A check that throws or hangs counts as down (a probe must answer, not wait on a dead dependency). */
async function settle(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  try {
    return await Promise.race([check().catch(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The worker's own small HTTP listener, for orchestrators and Prometheus (a worker serves no
 * GraphQL): `/healthz` (alive: restart it otherwise), `/readyz` (database and Redis answer, the
 * models are loaded; 503 with the failing checks otherwise, and while it drains on SIGTERM) and
 * `/metrics` (the job runner's and the registry's metrics, Prometheus text format). Same answers
 * as an api process's routes (src/app/health.ts), so one probe configuration fits both.
 */
export async function startWorkerHttp(opts: {
  host: string;
  port: number;
  metrics: Registry;
  checks: ReadinessCheck[];
  /** True once the worker stops taking jobs: /readyz answers 503 from then on. */
  draining: () => boolean;
  checkTimeoutMs?: number;
}): Promise<WorkerHttp> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const results = await Promise.all(opts.checks.map((c) => settle(c.check, opts.checkTimeoutMs ?? 2000)));
    const checks: Record<string, 'UP' | 'DOWN'> = Object.fromEntries(
      opts.checks.map((c, i) => [c.name, results[i] ? 'UP' : 'DOWN']),
    );
    if (opts.draining()) checks.draining = 'DOWN';
    const ready = Object.values(checks).every((s) => s === 'UP');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(opts.metrics.contentType).send(await opts.metrics.metrics());
  });
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  const server = http.createServer(app);
  // Probes are short requests; a slow or idle client must not hold the drain at shutdown.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: opts.port, host: opts.host, exclusive: true }, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
