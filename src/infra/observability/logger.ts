import pino, { Logger } from 'pino';
import type { Config } from '../config';
import { LogRing } from './log-ring';
import { currentRequestId } from './request-scope';

export type { Logger };

/** Where log lines go besides the ring (stdout unless a test gives another). */
export interface LogDestination {
  write(line: string): unknown;
}

export interface LoggerOptions {
  /** Default: stdout (pino's own destination). */
  destination?: LogDestination;
}

/** Longest a line waits in stdout's buffer (it is written sooner once 4 KB have gathered). */
export const LOG_FLUSH_MS = 250;

/** The ring each logger made by createLogger writes into (its children share it). */
const rings = new WeakMap<Logger, LogRing>();

/**
 * The recent lines of the process whose root logger is `logger` (`serverLogs`, `serverLogStream`).
 * A logger not made by createLogger (a test's own) gets an empty ring that nothing writes into.
 */
export function logRingOf(logger: Logger): LogRing {
  let ring = rings.get(logger);
  if (!ring) rings.set(logger, (ring = new LogRing(0)));
  return ring;
}

/**
 * JSON logs. Secrets must never reach a log line: the redact list covers the places they travel
 * (headers, variables of auth operations), and code must not log tokens or codes by hand.
 *
 * Every line is also kept in a bounded in-memory ring (LOG_RING_SIZE lines; `logRingOf`) for the
 * admins' log view, after redaction. A line written while a request (or a job queued by one) runs
 * carries its id as `reqId` (request-scope.ts), wherever in the code it is logged.
 */
export function createLogger(
  config: Pick<Config, 'LOG_LEVEL'> & Partial<Pick<Config, 'LOG_RING_SIZE'>>,
  base: Record<string, unknown> = {},
  options: LoggerOptions = {},
): Logger {
  const ring = new LogRing(config.LOG_RING_SIZE ?? 2000);
  // Buffered stdout (sonic-boom, flushed by pino at exit), unless a test gives another: a synchronous
  // write per line cost ~0.6 ms of CPU per request in the one-image bench (an access line each), and an
  // asynchronous one a trip through the thread pool per line (70-80 µs of CPU on the bench's VMs). So lines
  // are written once 4 KB have gathered, and every LOG_FLUSH_MS whatever has gathered.
  const out: LogDestination & { flush?: (cb?: (err?: Error) => void) => void; flushSync?: () => void } =
    options.destination ??
    pino.destination({ fd: process.stdout.fd || 1, sync: false, minLength: 4096, periodicFlush: LOG_FLUSH_MS });
  // One write for both: the ring sees exactly the text stdout gets; flushing reaches stdout.
  const tee = {
    write(line: string) {
      ring.push(line);
      return out.write(line);
    },
    flush: (cb?: (err?: Error) => void) => (out.flush ? out.flush(cb) : cb?.()),
    flushSync: () => out.flushSync?.(),
  };
  const logger = pino(
    {
      level: config.LOG_LEVEL,
      base: { service: 'dermagraph', pid: process.pid, ...base },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin() {
        const reqId = currentRequestId();
        return reqId ? { reqId } : {};
      },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          '*.password',
          '*.newPassword',
          '*.currentPassword',
          '*.token',
          '*.refreshToken',
          '*.code',
          '*.challengeToken',
          'variables.*',
        ],
        censor: '[redacted]',
      },
    },
    tee,
  );
  rings.set(logger, ring);
  return logger;
}

/**
 * Resolves once the lines logged so far are written (stdout's buffer drained), or after `timeoutMs` if
 * stdout does not take them (a full pipe nobody reads). Call it before process.exit: the exit's own
 * synchronous flush would otherwise write the buffer's tail while an earlier write is still under way,
 * and the lines could come out of order.
 */
export function flushLogs(logger: Logger, timeoutMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    logger.flush(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
