import type { EventEmitter } from 'node:events';
import type { Logger } from '../observability/logger';

/** An ioredis client, or whatever relays its events. */
export type Emitter = Pick<EventEmitter, 'on'>;

/** How often a connection that stays down is logged again. */
export const STILL_DOWN_EVERY_MS = 60_000;

/**
 * What an operator needs from a Redis connection's troubles, in the process's JSON log: a line when it is lost
 * (ioredis reconnects it), one for the first error while it is down, a reminder a minute while it stays down,
 * and one when it is ready again, with how long and how many errors. ioredis emits an error per failed
 * reconnect (several a second) and prints each with its stack to stderr when nothing listens: an outage of a
 * few minutes was thousands of lines outside the JSON log.
 */
export class ConnectionLog {
  private downSince: number | null = null;
  private errors = 0;
  private lastLine = 0;

  constructor(
    private readonly log: Logger,
    private readonly name: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** The connection closed and ioredis is reconnecting it (a blip is this and `ready`). */
  lost(): void {
    if (this.downSince !== null) return; // every reconnect attempt says so again
    this.downSince = this.now();
    this.log.warn({ redis: this.name }, 'redis connection lost; reconnecting');
  }

  failed(err: unknown): void {
    const t = this.now();
    const error = err instanceof Error ? err.message : String(err);
    this.errors++;
    if (this.errors === 1) {
      this.downSince ??= t;
      this.lastLine = t;
      this.log.error({ redis: this.name, error }, 'redis connection failing');
    } else if (t - this.lastLine >= STILL_DOWN_EVERY_MS) {
      this.lastLine = t;
      this.log.warn(
        { redis: this.name, error, errors: this.errors, downMs: t - this.downSince! },
        'redis connection still failing',
      );
    }
  }

  ready(): void {
    if (this.downSince === null) return;
    this.log.info(
      { redis: this.name, errors: this.errors, downMs: this.now() - this.downSince },
      'redis connection ready again',
    );
    this.downSince = null;
    this.errors = 0;
  }
}

/**
 * Logs `client`'s troubles (`ConnectionLog`): its 'reconnecting', 'error' (from `errorsFrom` when they are emitted
 * elsewhere: BullMQ relays its connections' errors to the Queue or Worker) and 'ready' events. Listening also
 * stops ioredis printing each error to stderr.
 */
export function logConnection(log: Logger, name: string, client: Emitter, errorsFrom: Emitter = client): void {
  const entry = new ConnectionLog(log, name);
  client.on('reconnecting', () => entry.lost());
  errorsFrom.on('error', (err: unknown) => entry.failed(err));
  client.on('ready', () => entry.ready());
}
