import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/** Kernel clock ticks per second, the unit of utime/stime in /proc/<pid>/stat. */
const TICKS_PER_S = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime of every thread of the process, ms. */
  cpuMs: number;
}

/** Every process's /proc/<pid>/stat; processes that end while it is read are skipped. */
function processes(): Proc[] {
  const out: Proc[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // comm is in parentheses and may hold spaces or ')': the fields after the last ')' are fixed.
    const close = stat.lastIndexOf(')');
    const f = stat.slice(close + 2).split(' ');
    out.push({
      pid: Number(name),
      comm: stat.slice(stat.indexOf('(') + 1, close),
      ppid: Number(f[1]),
      cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_S,
    });
  }
  return out;
}

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** `root` and all its descendants (worker processes, if any; threads are in the process's own figure). */
function tree(all: Proc[], root: number): Proc[] {
  const children = new Map<number, Proc[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out: Proc[] = [];
  const stack = all.filter((p) => p.pid === root);
  while (stack.length) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...(children.get(p.pid) ?? []));
  }
  return out;
}

const BACKGROUND = /: (checkpointer|background writer|walwriter|autovacuum launcher|logical replication launcher)/;

/**
 * The PostgreSQL processes serving `database`: the postmaster's children (processes named postgres whose parent
 * is the postmaster) that are backends of that database, plus its background processes (checkpointer, WAL
 * writer, ...), which write for every database. Backends of other databases are left out: the machine is
 * shared, and other people's tests use the same server.
 */
function postgres(all: Proc[], database: string): Proc[] {
  const byPid = new Map(all.map((p) => [p.pid, p]));
  return all.filter((p) => {
    const parent = byPid.get(p.ppid);
    if (p.comm !== 'postgres' || parent?.comm !== 'postgres' || byPid.get(parent.ppid)?.comm === 'postgres')
      return false;
    const cmd = cmdline(p.pid);
    return cmd.includes(` ${database} `) || BACKGROUND.test(cmd);
  });
}

/** What to measure: the process trees whose CPU a row is charged, and the PostgreSQL database, if any. */
export interface CpuTargets {
  /** Process tree roots (the API server, or the peer). */
  roots: number[];
  database?: string;
}

/** CPU ms so far, per process. */
export interface CpuSnapshot {
  service: Map<number, number>;
  postgres: Map<number, number>;
  clientMs: number;
}

/** CPU ms spent between two snapshots. */
export interface CpuUsage {
  /** The roots' process trees. */
  serviceMs: number;
  /** The PostgreSQL processes serving the database (0 without one). */
  postgresMs: number;
  /** This (the load-generating) process. */
  clientMs: number;
}

const byPid = (ps: Proc[]) => new Map(ps.map((p) => [p.pid, p.cpuMs]));

/** Reads everything at one instant; cpuDelta of two snapshots charges a window. */
export function cpuSnapshot(targets: CpuTargets): CpuSnapshot {
  const all = processes();
  const own = process.cpuUsage();
  return {
    service: byPid(targets.roots.flatMap((r) => tree(all, r))),
    postgres: byPid(targets.database ? postgres(all, targets.database) : []),
    clientMs: (own.user + own.system) / 1000,
  };
}

/**
 * Per process, so that one ending inside the window (a pooled connection closed) cannot subtract: a process
 * that appeared counts from 0, one that ended counts nothing (its last moments are lost, which is rare and small).
 */
function spent(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}

export const cpuDelta = (a: CpuSnapshot, b: CpuSnapshot): CpuUsage => ({
  serviceMs: spent(a.service, b.service),
  postgresMs: spent(a.postgres, b.postgres),
  clientMs: b.clientMs - a.clientMs,
});
