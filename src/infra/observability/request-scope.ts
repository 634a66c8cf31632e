import { AsyncLocalStorage } from 'node:async_hooks';
import type { NextFunction, Request, Response } from 'express';

/** What follows one request (or one job run for it) through every await: its id. */
interface RequestScope {
  requestId: string;
}

const scope = new AsyncLocalStorage<RequestScope>();

/**
 * The request id of the work running now: the HTTP request's (`x-request-id`), or, in a worker,
 * the id of the request that queued the job. It reaches the log lines (the logger's mixin), the
 * jobs a request queues and the audit rows it writes without being passed down every call.
 */
export function currentRequestId(): string | undefined {
  return scope.getStore()?.requestId;
}

/** Runs `fn` with `requestId` as the current request id (nothing changes when it is empty). */
export function withRequestId<T>(requestId: string | null | undefined, fn: () => T): T {
  return requestId ? scope.run({ requestId }, fn) : fn();
}

/**
 * Express middleware: the rest of the chain runs with the request's id (`req.id`, set by pino-http).
 * Mounted right before the GraphQL handler: body parsers resume in the socket's context, so a scope
 * entered before them would be lost.
 */
export function requestScope() {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const id = (req as Request & { id?: unknown }).id;
    if (id === undefined || id === null) return next();
    scope.run({ requestId: String(id) }, next);
  };
}
