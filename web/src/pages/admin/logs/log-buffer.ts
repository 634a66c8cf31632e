// The logs page's lines in memory: the first page (serverLogs) and the live tail (serverLogStream) merged into one
// list, oldest first, without the lines both sent (the tail starts with the last seconds), bounded to the newest
// `max`; and the page's own filters (text, request id, process), applied in the browser to what it holds.
import type { LogLevel } from '../../../gql/graphql';

export interface LogSourceView {
  id: string;
  role: string;
  host: string;
  pid: number;
}

export interface LogLineView {
  time: string;
  level: LogLevel;
  message?: string | null;
  requestId?: string | null;
  json: string;
  source: LogSourceView;
}

export interface LogFilter {
  /** Words looked for in the message and the whole JSON line, any case. */
  search: string;
  /** Only this request's lines when not empty. */
  requestId: string;
  /** Only this process's lines (LogSource.id) when not empty. */
  processId: string;
}

/** From the least to the most severe: what the level select offers, and what each filter keeps. */
export const LEVELS: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];

/** One line's identity: a process writes a given JSON line (with its time in it) once. */
export const lineKey = (l: LogLineView): string => `${l.source.id}\u0000${l.json}`;

/**
 * `current` and `incoming` as one list, oldest first, each line once, the newest `max` kept. Lines of several
 * processes arrive a little out of order (the tail sends them in batches), so the result is sorted by time; lines
 * of the same instant keep their arrival order.
 */
export function mergeLines<L extends LogLineView>(current: readonly L[], incoming: readonly L[], max: number): L[] {
  const seen = new Set(current.map(lineKey));
  const added = incoming.filter((l) => {
    const k = lineKey(l);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  if (added.length === 0) return current.slice(-max);
  const all = [...current, ...added];
  const at = (l: L) => Date.parse(l.time);
  // Already in order in the common case (new lines after the last one): skip the sort.
  const ordered = all.every((l, i) => i === 0 || at(all[i - 1]) <= at(l))
    ? all
    : all
        .map((l, i) => ({ l, i }))
        .sort((a, b) => at(a.l) - at(b.l) || a.i - b.i)
        .map((x) => x.l);
  return ordered.slice(-max);
}

/** Whether a line passes the page's filters (the level is the server's: the query and the tail ask for it). */
export function matchesFilter(l: LogLineView, f: LogFilter): boolean {
  if (f.requestId.trim() && l.requestId !== f.requestId.trim()) return false;
  if (f.processId && l.source.id !== f.processId) return false;
  const words = f.search.trim().toLowerCase();
  if (!words) return true;
  return `${l.message ?? ''}\n${l.json}`.toLowerCase().includes(words);
}

/** How a process is named in the table: its role and where it runs ("api 4121 on web-1"). */
export const processName = (s: LogSourceView): string => `${s.role} ${s.pid} on ${s.host}`;

/** The processes the lines come from, each once, by name (the process select). */
export function processesOf(lines: readonly LogLineView[]): LogSourceView[] {
  const byId = new Map<string, LogSourceView>();
  for (const l of lines) if (!byId.has(l.source.id)) byId.set(l.source.id, l.source);
  return [...byId.values()].sort((a, b) => processName(a).localeCompare(processName(b)));
}
