import { NameLocks } from './name-locks';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('NameLocks', () => {
  it('runs what shares a name one at a time, in call order', async () => {
    const locks = new NameLocks();
    const seen: string[] = [];
    const slow = locks.run('a', async () => {
      seen.push('first in');
      await tick();
      seen.push('first out');
    });
    const next = locks.run('a', async () => void seen.push('second'));
    const other = locks.run('b', async () => void seen.push('other name'));
    await Promise.all([slow, next, other]);
    expect(seen).toEqual(['first in', 'other name', 'first out', 'second']);
  });

  it('runAll holds every name while it runs: a run under any of them waits for it', async () => {
    const locks = new NameLocks();
    const seen: string[] = [];
    let onB: Promise<void> | undefined;
    await locks.runAll(['b', 'a', 'b'], async () => {
      seen.push('all in');
      onB = locks.run('b', async () => void seen.push('b'));
      await tick();
      seen.push('all out');
    });
    await onB;
    expect(seen).toEqual(['all in', 'all out', 'b']);
  });

  it('overlapping sets asked for in opposite orders do not deadlock', async () => {
    const locks = new NameLocks();
    const done = await Promise.all([
      locks.runAll(['x', 'y'], async () => (await tick(), 1)),
      locks.runAll(['y', 'x'], async () => (await tick(), 2)),
      locks.runAll(['y', 'z', 'x'], async () => (await tick(), 3)),
    ]);
    expect(done).toEqual([1, 2, 3]);
    await locks.idle();
  });

  it('a failure answers its caller and lets the names go', async () => {
    const locks = new NameLocks();
    await expect(locks.runAll(['a', 'b'], () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(locks.runAll(['b', 'a'], async () => 'next')).resolves.toBe('next');
  });
});
