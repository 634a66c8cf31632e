import {
  lineKey,
  matchesFilter,
  mergeLines,
  processName,
  processesOf,
  type LogLineView,
} from '../../web/src/pages/admin/logs/log-buffer';

/**
 * The logs page's buffer (web/src/pages/admin/logs/log-buffer.ts): the first page and the live tail merged oldest
 * first, each line once, the newest `max` kept; the page's text, request and process filters.
 */
const api = { id: 'web-1:4121:a', role: 'api', host: 'web-1', pid: 4121 };
const worker = { id: 'gpu-1:77:b', role: 'worker', host: 'gpu-1', pid: 77 };

function line(ms: number, msg: string, source = api, requestId: string | null = null): LogLineView {
  const time = new Date(Date.UTC(2026, 10, 30, 12, 0, 0, ms)).toISOString();
  return { time, level: 'INFO', message: msg, requestId, json: JSON.stringify({ time, msg }), source };
}

const messages = (lines: LogLineView[]) => lines.map((l) => l.message);

describe('mergeLines', () => {
  it('appends new lines after the page and drops the ones both sent', () => {
    const page = [line(1, 'a'), line(2, 'b'), line(3, 'c')];
    const tail = [line(2, 'b'), line(3, 'c'), line(4, 'd')];
    expect(messages(mergeLines(page, tail, 10))).toEqual(['a', 'b', 'c', 'd']);
  });

  it('puts lines of another process that arrive late in time order, same instants in arrival order', () => {
    const merged = mergeLines([line(1, 'a'), line(5, 'e')], [line(3, 'w', worker), line(5, 'w5', worker)], 10);
    expect(messages(merged)).toEqual(['a', 'w', 'e', 'w5']);
  });

  it('keeps the newest max lines', () => {
    const merged = mergeLines([line(1, 'a'), line(2, 'b')], [line(3, 'c'), line(4, 'd')], 3);
    expect(messages(merged)).toEqual(['b', 'c', 'd']);
    expect(messages(mergeLines(merged, [], 2))).toEqual(['c', 'd']);
  });

  it('tells the same JSON line of two processes apart', () => {
    const a = line(1, 'same');
    const b = { ...a, source: worker };
    expect(lineKey(a)).not.toBe(lineKey(b));
    expect(mergeLines([a], [b, a], 10)).toHaveLength(2);
  });
});

describe('matchesFilter', () => {
  const l = line(1, 'classify done', worker, 'req-42');
  const none = { search: '', requestId: '', processId: '' };

  it('keeps every line without a filter', () => {
    expect(matchesFilter(l, none)).toBe(true);
  });

  it('matches words in the message or the JSON, any case', () => {
    expect(matchesFilter(l, { ...none, search: 'CLASSIFY' })).toBe(true);
    expect(matchesFilter(l, { ...none, search: '2026-11-30' })).toBe(true);
    expect(matchesFilter(l, { ...none, search: 'segment' })).toBe(false);
  });

  it('narrows to one request and one process', () => {
    expect(matchesFilter(l, { ...none, requestId: ' req-42 ' })).toBe(true);
    expect(matchesFilter(l, { ...none, requestId: 'req-4' })).toBe(false);
    expect(matchesFilter(line(1, 'x'), { ...none, requestId: 'req-42' })).toBe(false);
    expect(matchesFilter(l, { ...none, processId: worker.id })).toBe(true);
    expect(matchesFilter(l, { ...none, processId: api.id })).toBe(false);
  });
});

it('names processes by role, pid and host, each once, sorted', () => {
  expect(processName(api)).toBe('api 4121 on web-1');
  const lines = [line(1, 'a', worker), line(2, 'b'), line(3, 'c', worker)];
  expect(processesOf(lines).map(processName)).toEqual(['api 4121 on web-1', 'worker 77 on gpu-1']);
});
