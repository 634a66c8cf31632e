import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { freePort } from '../free-port';

/**
 * The soak's own PostgreSQL and Redis, started in a temp folder on free ports, so restarting them
 * (the fault runs) never touches the machine's shared services. Each is a child of this process,
 * stopped by its PID.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once something accepts TCP connections on `port`, rejects after `ms`. */
export async function waitForPort(port: number, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), r(true)));
      s.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on ${port} after ${ms} ms`);
    await sleep(100);
  }
}

const exited = (c: ChildProcess) =>
  new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

/** A child process the soak can stop (signal, wait) and start again on the same port and data. */
export interface Service {
  name: string;
  port: number;
  url: string;
  start(): Promise<void>;
  /** Sends `signal` and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  pid(): number | undefined;
}

function service(name: string, port: number, url: string, launch: () => ChildProcess, ready: () => Promise<void>) {
  let child: ChildProcess | null = null;
  let log = '';
  const svc: Service = {
    name,
    port,
    url,
    async start() {
      child = launch();
      log = '';
      child.stdout?.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-4000)));
      child.stderr?.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-4000)));
      const c = child;
      await Promise.race([
        ready(),
        exited(c).then(() => {
          throw new Error(`${name} exited at start:\n${log}`);
        }),
      ]);
    },
    async stop(signal = 'SIGTERM') {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited(child);
    },
    pid: () => child?.pid,
  };
  return svc;
}

/** The uid and gid of the `postgres` account: PostgreSQL refuses to run as root. */
function postgresIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
  return { uid: id('-u'), gid: id('-g') };
}

function postgresBin(name: string): string {
  const dir = execFileSync('pg_config', ['--bindir']).toString().trim();
  return path.join(dir, name);
}

/** initdb in `dir` (trust auth, loopback only), then `postgres -D dir -p <port>`; SIGINT is a fast shutdown. */
export async function privatePostgres(dir: string): Promise<Service> {
  const ids = postgresIds();
  const data = path.join(dir, 'pgdata');
  await mkdir(dir, { recursive: true });
  if (ids) {
    // The postgres account must reach its folder: mkdtemp makes the parent 0700 for root.
    chmodSync(path.dirname(dir), 0o755);
    chownSync(dir, ids.uid, ids.gid);
  }
  execFileSync(postgresBin('initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8'], {
    ...ids,
    stdio: 'pipe',
    env: { PATH: process.env.PATH ?? '', LC_ALL: 'C' },
  });
  const port = await freePort();
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  const launch = () =>
    spawn(
      postgresBin('postgres'),
      ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
      { ...ids, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', LC_ALL: 'C' } },
    );
  const ready = async () => {
    const { Client } = await import('pg');
    const end = Date.now() + 30_000;
    for (;;) {
      const c = new Client({ connectionString: url });
      try {
        await c.connect();
        await c.query('select 1');
        await c.end();
        return;
      } catch (err) {
        await c.end().catch(() => undefined);
        if (Date.now() > end) throw err;
        await sleep(100);
      }
    }
  };
  return service('postgres', port, url, launch, ready);
}

/** redis-server on a free port with an append-only file in `dir`, as docker-compose.yml runs it. */
export async function privateRedis(dir: string): Promise<Service> {
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const conf = path.join(dir, 'redis.conf');
  await writeFile(
    conf,
    [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, 'appendonly yes', 'save ""', 'protected-mode no', ''].join('\n'),
  );
  return service(
    'redis',
    port,
    `redis://127.0.0.1:${port}`,
    () => spawn('redis-server', [conf], { stdio: ['ignore', 'pipe', 'pipe'] }),
    () => waitForPort(port),
  );
}

/** A tmpfs of `bytes` mounted at `dir` (root only), or null where mounting is refused. */
export async function smallFilesystem(dir: string, bytes: number): Promise<{ unmount(): Promise<void> } | null> {
  await mkdir(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    return null;
  }
  return {
    async unmount() {
      execFileSync('umount', [dir], { stdio: 'ignore' });
      await rm(dir, { recursive: true, force: true });
    },
  };
}
