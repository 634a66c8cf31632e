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

const line = (level: number, msg: string, fields: { error?: string; errors?: number; downMs?: number } = {}) => ({
  level,
  msg,
  redis: 'subscriber',
  error: fields.error,
  errors: fields.errors,
  downMs: fields.downMs,
});

describe('ConnectionLog', () => {
  it('an outage: one line when the connection is lost, one for its first error, one a minute, one when it is back', () => {
    const { log, seen } = capture();
    let t = 1_000;
    const entry = new ConnectionLog(log, 'subscriber', () => t);
    entry.ready(); // the first ready of a connection that never failed says nothing
    const refused = new Error('connect ECONNREFUSED 127.0.0.1:6379');
    entry.lost();
    for (let i = 0; i < 20; i++) {
      t += 500; // ioredis's attempts, several a second at first, each 'reconnecting' and 'error'
      entry.lost();
      entry.failed(refused);
    }
    expect(seen()).toEqual([
      line(40, 'redis connection lost; reconnecting'),
      line(50, 'redis connection failing', { error: refused.message }),
    ]);
    t = 1_000 + STILL_DOWN_EVERY_MS + 500; // a minute after the first error
    entry.failed('ETIMEDOUT'); // the 21st
    t += 1_000;
    entry.failed(refused); // inside the next minute: nothing
    t += 4_000;
    entry.ready();
    entry.ready(); // a second ready without a failure between: nothing
    expect(seen().slice(2)).toEqual([
      line(40, 'redis connection still failing', { error: 'ETIMEDOUT', errors: 21, downMs: STILL_DOWN_EVERY_MS + 500 }),
      line(30, 'redis connection ready again', { errors: 22, downMs: STILL_DOWN_EVERY_MS + 5_500 }),
    ]);
  });

  it('a blip (lost, then ready at the first attempt) is two lines; a refusal on a ready connection is one', () => {
    const { log, seen } = capture();
    let t = 0;
    const entry = new ConnectionLog(log, 'subscriber', () => t);
    entry.lost();
    t += 30;
    entry.ready();
    // A SUBSCRIBE refused after a reconnect (an ACL change): an error while the connection is up.
    entry.failed(new Error('NOPERM this user has no permissions to access one of the channels'));
    expect(seen()).toEqual([
      line(40, 'redis connection lost; reconnecting'),
      line(30, 'redis connection ready again', { errors: 0, downMs: 30 }),
      line(50, 'redis connection failing', {
        error: 'NOPERM this user has no permissions to access one of the channels',
      }),
    ]);
  });

  it('logConnection takes errors from the emitter that relays them, reconnects and readiness from the client', () => {
    const { log, seen } = capture();
    const client = new EventEmitter();
    const relay = new EventEmitter();
    logConnection(log, 'jobs queue', client, relay);
    client.emit('reconnecting');
    relay.emit('error', new Error('Connection is closed.'));
    client.emit('ready');
    expect(seen().map((l) => [l.redis, l.msg])).toEqual([
      ['jobs queue', 'redis connection lost; reconnecting'],
      ['jobs queue', 'redis connection failing'],
      ['jobs queue', 'redis connection ready again'],
    ]);
  });
});
