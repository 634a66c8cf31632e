import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * One process at a time on an embedded database: PGlite has no postmaster, so two processes that open
 * the same DATA_DIR/pglite both "work" and the second one's writes are lost when the first flushes.
 *
 * The lock is a pid file made with O_EXCL (`wx`), holding the owner's pid, host, command and process
 * start time. Why not a lock library: proper-lockfile (mkdir + mtime refreshed by a timer) lets a
 * crashed holder block the next start until its mtime goes stale (10 s) and kills a live holder whose
 * refresh timer was late (a suspended laptop); flock() needs a native module. A pid file needs neither:
 * the holder is alive or it is not. A holder is taken for gone when its host is this host and its pid
 * is not running, or runs a process started at another time (pid reuse, checked on Linux via /proc),
 * or is our own pid (a container restarted as pid 1). Replacing a stale file is serialised by a second
 * O_EXCL file, so two processes starting after a crash cannot both take the lock.
 */

export interface LockHolder {
  pid: number;
  host: string;
  /** The dermagraph command that holds it (serve, migrate, create-admin, ...). */
  command: string;
  since: string;
  /** Linux: the holder's start time in clock ticks since boot (/proc/<pid>/stat field 22). */
  procStart?: string;
}

export class DataDirInUseError extends Error {
  override name = 'DataDirInUseError';
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder,
    lockFile: string,
  ) {
    const who = `${holder.command === 'serve' ? 'the server' : `\`${holder.command}\``} (pid ${holder.pid}${holder.host !== os.hostname() ? ` on ${holder.host}` : ''}, since ${holder.since})`;
    super(
      `DATA_DIR ${dataDir} is in use by ${who}. The embedded database allows one process at a time: ` +
        `stop that process first, then run this again. To run commands beside a running server, use PostgreSQL ` +
        `(set DATABASE_URL for both). If that process is gone${holder.host !== os.hostname() ? ' (it ran on another host)' : ''}, delete ${lockFile}.`,
    );
  }
}

export interface DataDirLock {
  file: string;
  release(): void;
}

function procStart(pid: number): string | undefined {
  try {
    // Field 2 (comm) may hold spaces and parentheses: count fields after its closing parenthesis.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Lock files this process holds (a second open in the same process is refused too). */
const held = new Set<string>();

function alive(holder: LockHolder, file: string): boolean {
  if (holder.host !== os.hostname()) return true; // cannot tell: assume it runs
  if (holder.pid === process.pid) return held.has(file); // else left by a previous life with our pid (a container's pid 1)
  try {
    process.kill(holder.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const now = procStart(holder.pid);
  return !(holder.procStart && now && now !== holder.procStart);
}

function readHolder(file: string): LockHolder | null {
  try {
    const h = JSON.parse(fs.readFileSync(file, 'utf8')) as LockHolder;
    return typeof h.pid === 'number' && typeof h.host === 'string' ? h : null;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Takes DATA_DIR's lock for this process's life (until release(), or the process's end) or throws
 * DataDirInUseError naming the holder.
 */
export function lockDataDir(dataDir: string, command = commandName()): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'pglite.lock');
  const takeover = `${file}.takeover`;
  const me: LockHolder = {
    pid: process.pid,
    host: os.hostname(),
    command,
    since: new Date().toISOString(),
    procStart: procStart(process.pid),
  };
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(me), { flag: 'wx', mode: 0o600 });
      held.add(file);
      return {
        file,
        release() {
          if (!held.delete(file)) return;
          if (readHolder(file)?.pid === me.pid) fs.rmSync(file, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = readHolder(file);
    if (holder && alive(holder, file)) throw new DataDirInUseError(dataDir, holder, file);
    if (!holder && Date.now() - statMs(file) < 2_000) {
      sleep(50); // being written right now by its owner
      continue;
    }
    // Stale: replace it, one process at a time.
    try {
      fs.writeFileSync(takeover, String(process.pid), { flag: 'wx', mode: 0o600 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (Date.now() - statMs(takeover) > 10_000)
        fs.rmSync(takeover, { force: true }); // its owner died mid-takeover
      else sleep(50);
      continue;
    }
    try {
      const again = readHolder(file);
      if (JSON.stringify(again) === JSON.stringify(holder)) fs.rmSync(file, { force: true });
    } finally {
      fs.rmSync(takeover, { force: true });
    }
  }
  throw new Error(`could not take the lock ${file}`);
}

/** `serve`, `migrate`, ... for the CLI; the script's name for anything else (a test, a bench). */
function commandName(): string {
  const script = path.basename(process.argv[1] ?? 'node');
  return script === 'cli.js' || script === 'dermagraph' ? (process.argv[2] ?? script) : script;
}

function statMs(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}
