import { EventEmitter } from 'node:events';
import { createLogger } from '../observability/logger';
import { ConnectionLog, logConnection, STILL_DOWN_EVERY_MS } from './connection-log';

/** A logger at info whose JSON lines are kept here. */
function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger(
    { LOG_LEVEL: 'info' },
    {},
    { destination: { write: (l: string) => lines.push(JSON.parse(l)) } },
  );
  const seen = () =>
    lines.map(({ level, msg, redis, error, errors, downMs }) => ({ level, msg, redis, error, errors, downMs }));
  return { log, seen };
}

describe('ConnectionLog', () => {
  it('an outage is one line when it starts, one a minute while it lasts, and one when the connection is ready again', () => {
    const { log, seen } = capture();
    let t = 1_000;
    const entry = new ConnectionLog(log, 'subscriber', () => t);
    entry.ready(); // the first ready of a connection that never failed says nothing
    const refused = new Error('connect ECONNREFUSED 127.0.0.1:6379');
    entry.failed(refused);
    for (let i = 0; i < 20; i++) {
      t += 500; // ioredis's retries, several a second at first
      entry.failed(refused);
    }
    expect(seen()).toEqual([
      {
        level: 50,
        msg: 'redis connection failing; ioredis retries it',
        redis: 'subscriber',
        error: refused.message,
        errors: undefined,
        downMs: undefined,
      },
    ]);
    t = 1_000 + STILL_DOWN_EVERY_MS;
    entry.failed('ETIMEDOUT'); // the 22nd error, a minute in
    t += 1_000;
    entry.failed(refused); // inside the next minute: nothing
    t += 4_000;
    entry.ready();
    entry.ready(); // a second ready without a failure between: nothing
    expect(seen().slice(1)).toEqual([
      {
        level: 40,
        msg: 'redis connection still failing',
        redis: 'subscriber',
        error: 'ETIMEDOUT',
        errors: 22,
        downMs: STILL_DOWN_EVERY_MS,
      },
      {
        level: 30,
        msg: 'redis connection ready again',
        redis: 'subscriber',
        error: undefined,
        errors: 23,
        downMs: 65_000,
      },
    ]);
    // The next outage starts its own count.
    entry.failed(refused);
    entry.ready();
    expect(
      seen()
        .slice(3)
        .map((l) => [l.msg, l.errors]),
    ).toEqual([
      ['redis connection failing; ioredis retries it', undefined],
      ['redis connection ready again', 1],
    ]);
  });

  it('logConnection takes the errors from the emitter that relays them and readiness from the client', () => {
    const { log, seen } = capture();
    const client = new EventEmitter();
    const relay = new EventEmitter();
    logConnection(log, 'jobs queue', client, relay);
    relay.emit('error', new Error('Connection is closed.'));
    client.emit('ready');
    expect(seen().map((l) => [l.redis, l.msg])).toEqual([
      ['jobs queue', 'redis connection failing; ioredis retries it'],
      ['jobs queue', 'redis connection ready again'],
    ]);
  });
});
