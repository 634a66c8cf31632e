import { PixelBudget } from './pixel-budget';

const tick = () => new Promise((r) => setImmediate(r));

describe('PixelBudget', () => {
  it('grants while the pixels fit, then in arrival order as they are given back', async () => {
    const b = new PixelBudget(100);
    const order: string[] = [];
    const a = await b.acquire(60);
    const c = b.acquire(50).then((r) => (order.push('c'), r)); // does not fit beside a
    const d = b.acquire(10).then((r) => (order.push('d'), r)); // would fit, but waits behind c
    await tick();
    expect(order).toEqual([]);
    expect(b.used).toBe(60);
    a();
    a(); // idempotent
    const [rc, rd] = await Promise.all([c, d]);
    expect(order).toEqual(['c', 'd']);
    expect(b.used).toBe(60);
    rc();
    rd();
    expect(b.used).toBe(0);
  });

  it('lets a request larger than the budget run alone instead of never', async () => {
    const b = new PixelBudget(100);
    const small = await b.acquire(1);
    let bigGranted = false;
    const big = b.acquire(1_000).then((r) => ((bigGranted = true), r));
    await tick();
    expect(bigGranted).toBe(false);
    small();
    (await big)();
    expect(bigGranted).toBe(true);
    expect(b.used).toBe(0);
  });
});
