import { AppError } from '../infra/errors';
import { ConfigError } from '../infra/config';
import { DataDirInUseError } from '../infra/database/data-dir-lock';

/** A failure the command expected (bad input, a refused operation): its message is printed, without a stack. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

/** What the CLI prints on standard error for an error that ended a command, and the exit status. */
export interface FailureReport {
  text: string;
  exitCode: number;
}

type SystemError = NodeJS.ErrnoException & { address?: string; port?: number; hostname?: string };

/** One line for the system errors a person can act on (a port taken, a service not reachable), or null. */
function systemErrorLine(err: SystemError): string | null {
  const where = err.port !== undefined ? `${err.address ?? ''}:${err.port}` : (err.address ?? '');
  if (err.syscall === 'listen' && err.code === 'EADDRINUSE')
    return `port ${err.port} on ${err.address} is already in use (EADDRINUSE): stop the process listening there or set PORT (and HOST) to a free address`;
  if (err.syscall === 'listen' && err.code === 'EACCES')
    return `not allowed to listen on port ${err.port} on ${err.address} (EACCES): ports below 1024 need privileges; set PORT`;
  if (err.syscall === 'listen' && err.code === 'EADDRNOTAVAIL')
    return `HOST ${err.address} is not an address of this machine (EADDRNOTAVAIL)`;
  if (err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || err.code === 'EHOSTUNREACH')
    return `cannot connect to ${where || err.hostname || 'a service'} (${err.code}): check DATABASE_URL / REDIS_URL / SMTP_URL and that the service runs`;
  return null;
}

/**
 * Expected failures (configuration, a locked DATA_DIR, a port in use, an AppError, a CommandError)
 * give one clear line and no stack; anything else is unexpected and printed with its stack.
 */
export function describeFailure(err: unknown): FailureReport {
  if (err instanceof ConfigError) return { text: `${err.message}\n`, exitCode: 78 }; // EX_CONFIG
  // EX_TEMPFAIL: try again once the other process has stopped
  if (err instanceof DataDirInUseError) return { text: `${err.message}\n`, exitCode: 75 };
  if (err instanceof CommandError) return { text: `error: ${err.message}\n`, exitCode: err.exitCode };
  if (err instanceof AppError) {
    const field = typeof err.extensions.field === 'string' ? `, field ${err.extensions.field}` : '';
    return { text: `error: ${err.message} (${err.code}${field})\n`, exitCode: 1 };
  }
  const line = err instanceof Error ? systemErrorLine(err as SystemError) : null;
  if (line) return { text: `error: ${line}\n`, exitCode: 1 };
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return { text: `unexpected error (a bug, or a failure the CLI does not know):\n${detail}\n`, exitCode: 1 };
}
