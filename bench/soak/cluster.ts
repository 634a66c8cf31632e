import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { freePort } from '../free-port';
import { privatePostgres, privateRedis, smallFilesystem, type Service } from './services';
import { startDg, stopDg, type DgProcess } from './processes';

/**
 * The soak's deployment on loopback: its own PostgreSQL and Redis, one api (`dermagraph serve`,
 * JOB_MODE=queue) and workers (`dermagraph worker`), all sharing one DATA_DIR, as
 * docs/operations.md describes (without nginx, which the topology test covers).
 */
export interface Cluster {
  work: string;
  dataDir: string;
  pg: Service;
  redis: Service;
  api: DgProcess;
  workers: DgProcess[];
  /** The api's /graphql (fixed port, so a restarted api answers at the same address). */
  url: string;
  admin: { email: string; password: string };
  startApi(): Promise<DgProcess>;
  startWorker(): Promise<DgProcess>;
  processes(): DgProcess[];
  stop(): Promise<void>;
}

export interface ClusterOptions {
  workers: number;
  /** Mount a tmpfs of this many bytes as the file store (DATA_DIR/files), for the disk-full run. */
  filesBytes?: number;
}

export async function startCluster(work: string, opts: ClusterOptions): Promise<Cluster> {
  await mkdir(work, { recursive: true });
  const dataDir = path.join(work, 'data');
  const small = opts.filesBytes ? await smallFilesystem(path.join(dataDir, 'files'), opts.filesBytes) : null;
  if (opts.filesBytes && !small) throw new Error('cannot mount a tmpfs here (root and mount(8) needed)');
  const pg = await privatePostgres(path.join(work, 'pg'));
  const redis = await privateRedis(path.join(work, 'redis'));
  await Promise.all([pg.start(), redis.start()]);
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const admin = { email: 'admin@soak.test', password: `Admin-${randomBytes(9).toString('base64url')}` };
  // What production sets and every process shares (docs/operations.md).
  const shared: Record<string, string> = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info', // the ready lines are at info
    HOST: '127.0.0.1',
    DATABASE_URL: pg.url,
    REDIS_URL: redis.url,
    DATA_DIR: dataDir,
    PUBLIC_URL: origin,
    // The clinicians stand behind a proxy on loopback: each sends its own X-Forwarded-For (clinician.ts).
    TRUST_PROXY: '127.0.0.1',
    URL_SIGNING_SECRET: randomBytes(32).toString('hex'),
    TOTP_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    JWT_PRIVATE_KEY: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    ALLOW_UNVERIFIED_LOGIN: '1',
    JOB_MODE: 'queue',
    JOB_LOCK_MS: '5000',
    SHUTDOWN_TIMEOUT_MS: '15000',
    MONITOR_INTERVAL_MS: '2000',
    // Many clinicians sign in from 127.0.0.1; the plan quotas are not what is measured.
    QUOTA_FREE_UPLOADS_PER_MONTH: '1000000',
    QUOTA_FREE_PREDICTIONS_PER_MONTH: '1000000',
    QUOTA_FREE_SEGMENTATIONS_PER_MONTH: '1000000',
    WS_MAX_SOCKETS_PER_IP: '1000',
  };
  let workerN = 0;
  const cluster: Cluster = {
    work,
    dataDir,
    pg,
    redis,
    api: null as unknown as DgProcess,
    workers: [],
    url: `${origin}/graphql`,
    admin,
    async startApi() {
      cluster.api = await startDg('api', 'api', {
        ...shared,
        PORT: String(port),
        ADMIN_EMAIL: admin.email,
        ADMIN_PASSWORD: admin.password,
      });
      return cluster.api;
    },
    async startWorker() {
      const w = await startDg(`worker-${++workerN}`, 'worker', {
        ...shared,
        WORKER_HTTP_PORT: '0',
        JOB_CONCURRENCY: '2',
      });
      cluster.workers.push(w);
      return w;
    },
    processes: () => [cluster.api, ...cluster.workers].filter(Boolean),
    async stop() {
      await Promise.all(cluster.processes().map((p) => stopDg(p)));
      await Promise.all([pg.stop('SIGINT'), redis.stop()]);
      await small?.unmount().catch(() => undefined);
      await rm(work, { recursive: true, force: true });
    },
  };
  try {
    await cluster.startApi(); // migrates the database before any worker reads it
    for (let i = 0; i < opts.workers; i++) await cluster.startWorker();
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
