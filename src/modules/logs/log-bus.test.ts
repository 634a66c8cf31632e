import { createPubSub } from '../../infra/messaging/pubsub';
import { LOG_LEVELS, LogRing } from '../../infra/observability/log-ring';
import { processIdentity } from '../../infra/observability/process-info';
import { LogBus, type LogSource } from './log-bus';

/** Two "processes" on one in-memory pub/sub, each with its own ring and identity. */
function twoProcesses() {
  const pubSub = createPubSub();
  const make = (role: 'api' | 'worker', peers: () => LogSource[]) => {
    const ring = new LogRing(100);
    const identity = processIdentity(role);
    const bus = new LogBus({ pubSub, ring, identity, peers: async () => peers(), timeoutMs: 300 });
    bus.start();
    return { ring, identity, bus };
  };
  const sources: LogSource[] = [];
  const api = make('api', () => sources);
  const worker = make('worker', () => sources);
  sources.push(api.identity, worker.identity);
  return { api, worker, sources, pubSub };
}

const line = (level: number, msg: string) => `{"level":${level},"msg":"${msg}"}\n`;
const tick = (ms = 10) => new Promise((r) => setTimeout(r, ms));

describe('LogBus', () => {
  it('gathers every process’s lines, merged by time, and names a process that did not answer', async () => {
    const { api, worker, sources } = twoProcesses();
    api.ring.push(line(LOG_LEVELS.info, 'api-1'));
    await tick(5);
    worker.ring.push(line(LOG_LEVELS.warn, 'worker-1'));
    await tick(5);
    api.ring.push(line(LOG_LEVELS.error, 'api-2'));
    const got = await api.bus.gather({ minLevel: LOG_LEVELS.info, limit: 10 });
    expect(got.lines.map((l) => [JSON.parse(l.line).msg, l.source.role])).toEqual([
      ['api-1', 'api'],
      ['worker-1', 'worker'],
      ['api-2', 'api'],
    ]);
    expect(got.sources.every((s) => s.answered)).toBe(true);
    expect((await api.bus.gather({ minLevel: LOG_LEVELS.warn, limit: 1 })).lines.map((l) => l.seq)).toEqual([2]);

    // A process still in the directory that no longer answers: waited for, then named.
    sources.push({ id: 'gone:1:x', role: 'worker', host: 'gone', pid: 1 });
    const partial = await worker.bus.gather({ minLevel: 0, limit: 10 });
    expect(partial.lines).toHaveLength(3);
    expect(partial.sources.find((s) => s.source.id === 'gone:1:x')).toMatchObject({ answered: false });
    api.bus.close();
    worker.bus.close();
  });

  it('publishes only while someone tails, at the level asked, and a tail ends at once', async () => {
    const { api, worker, pubSub } = twoProcesses();
    // Nobody tails: no line leaves its process.
    const raw = pubSub.subscribe('LOGS_LINES')[Symbol.asyncIterator]();
    const rawNext = raw.next();
    worker.ring.push(line(LOG_LEVELS.error, 'unheard'));
    expect(await Promise.race([rawNext.then(() => 'published'), tick(200).then(() => 'quiet')])).toBe('quiet');
    await raw.return!();
    const tail = api.bus.tail(LOG_LEVELS.warn);
    const first = tail.next();
    await tick();
    worker.ring.push(line(LOG_LEVELS.info, 'too-low'));
    worker.ring.push(line(LOG_LEVELS.error, 'wanted'));
    // The line nobody heard comes first: a process that starts publishing sends its last seconds.
    const msgs = [await first, await tail.next()].map((r) => [JSON.parse(r.value!.line).msg, r.value!.source.role]);
    expect(msgs).toEqual([
      ['unheard', 'worker'],
      ['wanted', 'worker'],
    ]);
    // The tail ends at once, also while it waits for a line.
    const pending = tail.next();
    await tail.return!();
    expect(await pending).toEqual({ done: true, value: undefined });
    api.bus.close();
    worker.bus.close();
  });
});
