import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The scaled-out deployment without containers: processes of the built CLI (`serve`, `worker`) and
 * the Debian nginx running deploy/nginx.conf, each started here and stopped by its PID.
 */
export const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/src/cli.js');

export interface Proc {
  name: string;
  child: ChildProcess;
  /** Everything it printed so far (JSON log lines). */
  log(): string;
}

/**
 * Spawns `dermagraph <command>` and resolves with the first log line whose `msg` is `readyMsg`
 * (parsed), rejecting with the process's output if it exits or stays silent for 90 s.
 */
export function spawnCli(
  name: string,
  command: 'serve' | 'worker',
  env: Record<string, string>,
  track: Proc[],
  readyMsg: string,
): Promise<{ proc: Proc; ready: Record<string, any> }> {
  const child = spawn(process.execPath, [CLI, command], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', DOTENV_PATH: '/dev/null', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const proc: Proc = { name, child, log: () => out };
  track.push(proc);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready:\n${out.slice(-4000)}`)), 90_000);
    let pending = '';
    const onData = (b: Buffer) => {
      out += b.toString();
      pending += b.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (!line.includes(readyMsg)) continue;
        const parsed = JSON.parse(line) as Record<string, any>;
        if (parsed.msg !== readyMsg) continue;
        clearTimeout(timer);
        resolve({ proc, ready: parsed });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}):\n${out.slice(-4000)}`));
    });
  });
}

export const exited = (c: ChildProcess) =>
  new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

/** Stops every process this test started, by PID: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopAll(track: Proc[], graceMs = 15_000): Promise<void> {
  await Promise.all(
    track.map(async ({ child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited(child);
      clearTimeout(timer);
    }),
  );
}

export const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p)) ?? 'nginx';

/**
 * nginx's main configuration around deploy/nginx.conf (the file docker-compose.yml mounts), with
 * only the upstream addresses and the listen port replaced: pid, logs and temp files in `dir`, in
 * the foreground (the test holds its PID), and an access log naming the upstream of each request.
 */
export async function writeNginxConfig(dir: string, port: number, upstreams: number[]): Promise<string> {
  const shipped = await readFile(path.join(ROOT, 'deploy/nginx.conf'), 'utf8');
  const servers = [...shipped.matchAll(/^(\s*)server api\d:4000( [^;]*)?;$/gm)];
  if (servers.length !== upstreams.length) throw new Error(`deploy/nginx.conf: expected ${upstreams.length} upstreams`);
  let site = shipped;
  servers.forEach((m, i) => (site = site.replace(m[0], `${m[1]}server 127.0.0.1:${upstreams[i]}${m[2] ?? ''};`)));
  if (!/^\s*listen 80;$/m.test(site)) throw new Error('deploy/nginx.conf: no `listen 80;`');
  site = site.replace(/^(\s*)listen 80;$/m, `$1listen 127.0.0.1:${port};`);
  for (const t of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(path.join(dir, t), { recursive: true });
  const main = `
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
http {
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  log_format topology '$status $request_method $uri $upstream_addr';
  access_log ${dir}/access.log topology;
${site}
}
`;
  const file = path.join(dir, 'nginx.conf');
  await writeFile(file, main);
  return file;
}

/** Starts nginx in the foreground on `file`; resolves once it answers on `port`. */
export async function startNginx(dir: string, file: string, port: number, track: Proc[]): Promise<Proc> {
  if (!existsSync(NGINX)) throw new Error('nginx is not installed: apt-get install nginx (.ci/run and CI install it)');
  const child = spawn(NGINX, ['-p', dir, '-c', file, '-e', path.join(dir, 'error.log')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const proc: Proc = { name: 'nginx', child, log: () => out };
  track.push(proc);
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    // nginx's own answer (its Server header), not whatever else might listen on the port.
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.status === 200 && r.headers.get('server') === 'nginx',
      () => false,
    );
    if (ok && child.exitCode === null) return proc;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `nginx did not start:\n${out}\n${await readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '')}`,
  );
}

/** Prometheus text: the sum of every sample of `metric` (any labels) whose label text includes `match`. */
export function metricSum(text: string, metric: string, match = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(metric) || !line.includes(match)) continue;
    const rest = line.slice(metric.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    sum += Number(line.split(' ').pop());
  }
  return sum;
}
