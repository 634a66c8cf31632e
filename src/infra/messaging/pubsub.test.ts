import { createPubSub, SubscriberOverflowError } from './pubsub';

const take = async (it: AsyncIterator<unknown>, n: number) => {
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) out.push((await it.next()).value);
  return out;
};

describe('createPubSub (in memory)', () => {
  it('delivers to the subscribers of a topic, and of a topic and id, in publish order', async () => {
    const ps = createPubSub();
    const all = ps.subscribe('T')[Symbol.asyncIterator]();
    const one = ps.subscribe('T', 'a')[Symbol.asyncIterator]();
    const other = ps.subscribe('T', 'b')[Symbol.asyncIterator]();
    ps.publish('T', 1);
    ps.publish('T', 'a', { n: 2 });
    ps.publish('T', 'a', { n: 3 });
    ps.publish('T', 'b', 'x');
    expect(await take(all, 1)).toEqual([1]);
    expect(await take(one, 2)).toEqual([{ n: 2 }, { n: 3 }]);
    expect(await take(other, 1)).toEqual(['x']);
    // A waiting subscriber is woken by the next event.
    const pending = one.next();
    ps.publish('T', 'a', 4);
    expect(await pending).toEqual({ value: 4, done: false });
  });

  it('stops delivering once a subscriber returns; a waiting next() ends', async () => {
    const ps = createPubSub();
    const it = ps.subscribe('T')[Symbol.asyncIterator]();
    const waiting = it.next();
    await it.return!();
    expect(await waiting).toEqual({ value: undefined, done: true });
    ps.publish('T', 1);
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('ends only the subscriber that falls too far behind, with SubscriberOverflowError', async () => {
    const ps = createPubSub({ maxQueued: 3 });
    const slow = ps.subscribe('T')[Symbol.asyncIterator]();
    const fast = ps.subscribe('T')[Symbol.asyncIterator]();
    const seen: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      ps.publish('T', i);
      seen.push((await fast.next()).value);
    }
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    await expect(slow.next()).rejects.toBeInstanceOf(SubscriberOverflowError);
    expect(await slow.next()).toEqual({ value: undefined, done: true });
  });
});
