import { decodeBoundCursor, encodeBoundCursor, queryTag, toPage } from './pagination';

describe('query-bound cursors', () => {
  const at = new Date('2026-01-02T03:04:05.678Z');

  it('round-trip under the same query tag', () => {
    const tag = queryTag(['patients', 'u1', 'ada']);
    expect(decodeBoundCursor(tag, encodeBoundCursor(tag, at, 'id-1'))).toEqual({ createdAt: at, id: 'id-1' });
  });

  it('are refused by another query with BAD_USER_INPUT', () => {
    const c = encodeBoundCursor(queryTag(['patients', 'u1', 'ada']), at, 'id-1');
    for (const other of [
      ['patients', 'u1', 'bob'],
      ['patients', 'u2', 'ada'],
      ['timeline', 'p1'],
    ]) {
      expect(() => decodeBoundCursor(queryTag(other), c)).toThrow(
        expect.objectContaining({
          extensions: expect.objectContaining({
            code: 'BAD_USER_INPUT',
            field: 'after',
            reason: 'CURSOR_QUERY_MISMATCH',
          }),
        }),
      );
    }
  });

  it('refuse garbage', () => {
    const tag = queryTag(['x']);
    for (const bad of [
      '',
      'not base64 !',
      Buffer.from('[1,2,3]').toString('base64url'),
      Buffer.from(JSON.stringify([tag, 'not a date', 'i'])).toString('base64url'),
      'a'.repeat(400),
    ]) {
      expect(() => decodeBoundCursor(tag, bad)).toThrow(
        expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }),
      );
    }
  });

  it('toPage keeps `limit` rows, says whether more exist and ends at the last row kept', () => {
    const rows = [3, 2, 1].map((n) => ({ id: `r${n}`, createdAt: new Date(n * 1000) }));
    const page = toPage('t', rows, 2, (r) => r);
    expect(page.edges.map((e) => e.node.id)).toEqual(['r3', 'r2']);
    expect(page.pageInfo).toEqual({ hasNextPage: true, endCursor: page.edges[1].cursor });
    expect(decodeBoundCursor('t', page.pageInfo.endCursor!)).toEqual({ createdAt: new Date(2000), id: 'r2' });
    expect(toPage('t', [], 2, (r: { id: string; createdAt: Date }) => r).pageInfo).toEqual({
      hasNextPage: false,
      endCursor: null,
    });
  });
});
