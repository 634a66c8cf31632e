import {
  decodeBoundCursor,
  encodeBoundCursor,
  keyset,
  keysetOrder,
  keysetPage,
  keysetWhere,
  queryTag,
  toPage,
} from './pagination';

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
    expect(page.pageInfo).toEqual({
      hasNextPage: true,
      hasPreviousPage: false,
      startCursor: page.edges[0].cursor,
      endCursor: page.edges[1].cursor,
    });
    expect(decodeBoundCursor('t', page.pageInfo.endCursor!)).toEqual({ createdAt: new Date(2000), id: 'r2' });
    expect(toPage('t', [], 2, (r: { id: string; createdAt: Date }) => r).pageInfo).toEqual({
      hasNextPage: false,
      hasPreviousPage: false,
      startCursor: null,
      endCursor: null,
    });
  });
});

describe('keysets', () => {
  const tag = queryTag(['timeline', 'p1']);
  const row = (n: number) => ({ id: `r${n}`, createdAt: new Date(n * 1000) });
  const cursorOf = (n: number) => encodeBoundCursor(tag, new Date(n * 1000), `r${n}`);
  const code = (field: string, reason?: string) =>
    expect.objectContaining({
      extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field, ...(reason ? { reason } : {}) }),
    });

  it('read forwards by default: newest first, strictly older than `after`', () => {
    expect(keyset(tag, {})).toEqual({ backward: false, limit: 20, bound: null });
    const k = keyset(tag, { first: 2, after: cursorOf(5) });
    expect(k).toEqual({ backward: false, limit: 2, bound: { createdAt: new Date(5000), id: 'r5' } });
    expect(keysetOrder(k)).toEqual({ createdAt: 'desc', id: 'desc' });
    expect(keysetWhere(k)).toEqual({
      $or: [{ createdAt: { $lt: new Date(5000) } }, { createdAt: new Date(5000), id: { $lt: 'r5' } }],
    });
  });

  it('read backwards with last/before: oldest first, strictly newer than `before`', () => {
    const k = keyset(tag, { last: 2, before: cursorOf(2) });
    expect(k).toEqual({ backward: true, limit: 2, bound: { createdAt: new Date(2000), id: 'r2' } });
    expect(keysetOrder(k)).toEqual({ createdAt: 'asc', id: 'asc' });
    expect(keysetWhere(k)).toEqual({
      $or: [{ createdAt: { $gt: new Date(2000) } }, { createdAt: new Date(2000), id: { $gt: 'r2' } }],
    });
    expect(keyset(tag, { last: 3 })).toEqual({ backward: true, limit: 3, bound: null });
  });

  it('a backward page is returned newest first; hasPreviousPage says whether newer rows remain', () => {
    // Rows 3, 4, 5 read oldest first after `before: r2`, one more than last: 2.
    const k = keyset(tag, { last: 2, before: cursorOf(2) });
    const page = keysetPage(tag, [row(3), row(4), row(5)], k, (r) => r);
    expect(page.edges.map((e) => e.node.id)).toEqual(['r4', 'r3']);
    expect(page.pageInfo).toEqual({
      hasNextPage: true,
      hasPreviousPage: true,
      startCursor: cursorOf(4),
      endCursor: cursorOf(3),
    });
    // last without before: the oldest rows (nothing older follows them); here no newer row remains either.
    const first = keysetPage(tag, [row(4), row(5)], keyset(tag, { last: 2 }), (r) => r);
    expect(first.edges.map((e) => e.node.id)).toEqual(['r5', 'r4']);
    expect(first.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
  });

  it('a forward page after a cursor has a previous page; its count is the thunk given', async () => {
    const page = keysetPage(
      tag,
      [row(1)],
      keyset(tag, { first: 2, after: cursorOf(2) }),
      (r) => r,
      async () => 7,
    );
    expect(page.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    await expect(page.totalCount!()).resolves.toBe(7);
    expect(toPage(tag, [], 2, (r: { id: string; createdAt: Date }) => r).totalCount).toBeUndefined();
  });

  it('take a cursor of the same query in either direction, and refuse one of another query', () => {
    const forward = keysetPage(tag, [row(5), row(4), row(3)], keyset(tag, { first: 2 }), (r) => r);
    expect(keyset(tag, { last: 1, before: forward.pageInfo.endCursor }).bound).toEqual({
      createdAt: new Date(4000),
      id: 'r4',
    });
    const other = queryTag(['timeline', 'p2']);
    expect(() => keyset(other, { before: forward.pageInfo.endCursor })).toThrow(
      code('before', 'CURSOR_QUERY_MISMATCH'),
    );
    expect(() => keyset(tag, { before: 'garbage' })).toThrow(code('before'));
  });

  it('refuse mixing directions and a page size out of range', () => {
    expect(() => keyset(tag, { first: 2, last: 2 })).toThrow(code('last'));
    expect(() => keyset(tag, { after: cursorOf(1), before: cursorOf(2) })).toThrow(code('before'));
    expect(() => keyset(tag, { last: 0 })).toThrow(code('last'));
    expect(() => keyset(tag, { last: 501 }, 500)).toThrow(/last must be between 1 and 500/);
    expect(keyset(tag, { last: 500 }, 500).limit).toBe(500);
  });
});
