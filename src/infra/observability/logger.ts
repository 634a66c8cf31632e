import pino, { Logger } from 'pino';
import type { Config } from '../config';

export type { Logger };

/**
 * JSON logs. Secrets must never reach a log line: the redact list covers the places they travel
 * (headers, variables of auth operations), and code must not log tokens or codes by hand.
 */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, base: Record<string, unknown> = {}): Logger {
  return pino({
    level: config.LOG_LEVEL,
    base: { service: 'dermagraph', pid: process.pid, ...base },
    timestamp: pino.stdTimeFunctions.isoTime,
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
  });
}
