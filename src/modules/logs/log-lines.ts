import { LOG_LEVELS, type LogLevelName } from '../../infra/observability/log-ring';
import type { SourcedLine } from './log-bus';
import { LogLevel, type ServerLogLine } from './logs.types';

/** pino's number for a level (INFO: 30). */
export const levelNumber = (level: LogLevel): number => LOG_LEVELS[level.toLowerCase() as LogLevelName];

/** The level named by pino's number (a custom number: the level below it). */
export function levelOf(n: number): LogLevel {
  const names = Object.entries(LOG_LEVELS) as Array<[LogLevelName, number]>;
  let found: LogLevelName = 'trace';
  for (const [name, value] of names) if (n >= value) found = name;
  return found.toUpperCase() as LogLevel;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);

/** A line for the API: message and request id read out of its JSON (a cut line keeps them null). */
export function toServerLogLine(l: SourcedLine): ServerLogLine {
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(l.line) as Record<string, unknown>;
  } catch {
    // Cut at MAX_LINE_CHARS: the raw text is still there.
  }
  const req = parsed.req as { id?: unknown } | undefined;
  return {
    time: new Date(l.time),
    level: levelOf(l.level),
    message: str(parsed.msg),
    requestId: str(parsed.reqId) ?? str(req?.id),
    source: { id: l.source.id, role: l.source.role, host: l.source.host, pid: l.source.pid },
    json: l.line,
  };
}
