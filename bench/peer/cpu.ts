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

/** CPU ms so far of `root` and all its descendants (worker processes, if any; threads are in the process's own figure). */
function treeMs(all: Proc[], root: number): number {
  const children = new Map<number, Proc[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  let total = 0;
  const stack = all.filter((p) => p.pid === root);
  while (stack.length) {
    const p = stack.pop()!;
    total += p.cpuMs;
    stack.push(...(children.get(p.pid) ?? []));
  }
  return total;
}

/**
 * CPU ms so far of the PostgreSQL processes serving `database`: the postmaster's children (processes named
 * postgres whose parent is the postmaster) that are backends of that database, plus its background processes
 * (checkpointer, WAL writer, ...), which write for every database. Backends of other databases are left out:
 * the machine is shared, and other people's tests use the same server. A backend that exits inside a window
 * takes its CPU with it (the server's pool keeps its connections, so that should not happen).
 */
function postgresMs(all: Proc[], database: string): number {
  const byPid = new Map(all.map((p) => [p.pid, p]));
  let total = 0;
  for (const p of all) {
    const parent = byPid.get(p.ppid);
    if (p.comm !== 'postgres' || parent?.comm !== 'postgres' || byPid.get(parent.ppid)?.comm === 'postgres') continue;
    const cmd = cmdline(p.pid);
    const background = /: (checkpointer|background writer|walwriter|autovacuum launcher|logical replication launcher)/;
    if (cmd.includes(` ${database} `) || background.test(cmd)) total += p.cpuMs;
  }
  return total;
}

/** What to measure: the process trees whose CPU a row is charged, and the PostgreSQL database, if any. */
export interface CpuTargets {
  /** Process tree roots (the API server, or the peer). */
  roots: number[];
  database?: string;
}

export interface CpuSnapshot {
  /** The roots' trees. */
  serviceMs: number;
  /** The PostgreSQL processes serving the database (0 without one). */
  postgresMs: number;
  /** This (the load-generating) process. */
  clientMs: number;
}

/** Reads everything at one instant; subtract two snapshots to charge a window. */
export function cpuSnapshot(targets: CpuTargets): CpuSnapshot {
  const all = processes();
  const own = process.cpuUsage();
  return {
    serviceMs: targets.roots.reduce((t, r) => t + treeMs(all, r), 0),
    postgresMs: targets.database ? postgresMs(all, targets.database) : 0,
    clientMs: (own.user + own.system) / 1000,
  };
}

export const cpuDelta = (a: CpuSnapshot, b: CpuSnapshot): CpuSnapshot => ({
  serviceMs: b.serviceMs - a.serviceMs,
  postgresMs: b.postgresMs - a.postgresMs,
  clientMs: b.clientMs - a.clientMs,
});
