import { BackgroundTasks } from './background';

describe('background tasks (work after the answer)', () => {
  it('start only when scheduled, are drained, and a failure is logged instead of thrown', async () => {
    const errors: object[] = [];
    const held: Array<() => void> = [];
    const tasks = new BackgroundTasks({ error: (o) => errors.push(o) }, (start) => held.push(start));
    const done: string[] = [];
    tasks.run('ok', async () => done.push('ok'));
    tasks.run('broken', async () => {
      throw new Error('smtp down');
    });
    await new Promise((r) => setImmediate(r));
    expect(done).toEqual([]); // nothing ran before its turn
    expect(tasks.size).toBe(2);
    held.splice(0).forEach((start) => start());
    await tasks.drain();
    expect(done).toEqual(['ok']);
    expect(errors).toEqual([{ err: expect.objectContaining({ message: 'smtp down' }), task: 'broken' }]);
    expect(tasks.size).toBe(0);
  });

  it('drain waits for tasks queued by tasks', async () => {
    const tasks = new BackgroundTasks({ error: () => undefined });
    const done: string[] = [];
    tasks.run('outer', async () => {
      tasks.run('inner', async () => done.push('inner'));
      done.push('outer');
    });
    await tasks.drain();
    expect(done).toEqual(['outer', 'inner']);
  });
});
