import { LOG_LEVELS, LogRing, MAX_LINE_CHARS } from './log-ring';

const line = (level: number, msg: string) => `{"level":${level},"time":"t","msg":"${msg}"}\n`;

describe('LogRing', () => {
  it('keeps the newest lines up to its capacity, oldest first, filtered by level and limit', () => {
    const ring = new LogRing(3);
    for (let i = 1; i <= 5; i++) ring.push(line(i % 2 ? LOG_LEVELS.info : LOG_LEVELS.error, `m${i}`));
    const all = ring.query({ minLevel: 0, limit: 10 });
    expect(all.map((e) => JSON.parse(e.line).msg)).toEqual(['m3', 'm4', 'm5']);
    expect(all.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(ring.query({ minLevel: LOG_LEVELS.error, limit: 10 }).map((e) => e.seq)).toEqual([4]);
    expect(ring.query({ minLevel: 0, limit: 2 }).map((e) => e.seq)).toEqual([4, 5]);
    expect(ring.query({ minLevel: 0, limit: 10, since: Date.now() + 1000 })).toEqual([]);
  });

  it('cuts long lines, reads an unknown level as info, and still tells listeners with capacity 0', () => {
    const ring = new LogRing(2);
    ring.push('x'.repeat(MAX_LINE_CHARS * 2));
    const [cut] = ring.query({ minLevel: 0, limit: 1 });
    expect(cut.line).toHaveLength(MAX_LINE_CHARS);
    expect(cut.level).toBe(LOG_LEVELS.info);
    const none = new LogRing(0);
    const heard: string[] = [];
    const stop = none.onLine((e) => heard.push(e.line));
    none.push(line(30, 'a'));
    stop();
    none.push(line(30, 'b'));
    expect(heard).toEqual(['{"level":30,"time":"t","msg":"a"}']);
    expect(none.query({ minLevel: 0, limit: 10 })).toEqual([]);
  });
});
