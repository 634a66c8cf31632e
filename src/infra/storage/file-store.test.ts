import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { FileTooLargeError, LocalFileStore, readWhole } from './file-store';
import { QuickOnLoop } from '../quick-on-loop';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A stream of `n` chunks of 64 KiB, made as it is read (never a whole buffer). */
function chunks(n: number, byte = 7): Readable {
  let i = 0;
  return new Readable({
    read() {
      this.push(i++ < n ? Buffer.alloc(65536, byte) : null);
    },
  });
}

/** QuickOnLoop calls that count where they ran; `pooled`: after a slow call, so every call goes through the pool. */
function countedCalls(pooled: boolean) {
  const counts = { loop: 0, pool: 0 };
  const clock = { t: 0 };
  const calls = new QuickOnLoop({ slowMs: 2, elsewhereMs: Infinity, now: () => clock.t });
  if (pooled)
    void calls.run(
      () => (clock.t += 10),
      async () => 0,
    );
  const run = calls.run.bind(calls);
  calls.run = (onLoop, onPool) =>
    run(
      () => (counts.loop++, onLoop()),
      () => (counts.pool++, onPool()),
    );
  return { calls, counts };
}

describe.each([
  ['small calls on the event loop', false],
  ['small calls through the thread pool (after a slow one)', true],
])('LocalFileStore, %s', (_name, pooled) => {
  let dir: string;
  let store: LocalFileStore;
  let counts: { loop: number; pool: number };
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dg-store-'));
    const made = countedCalls(pooled);
    counts = made.counts;
    store = new LocalFileStore(dir, made.calls);
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  it('stages a small file, places it and removes the staged copy with the small calls, where they run now', async () => {
    const data = Buffer.from('a thumbnail');
    const staged = await store.stageWhole({ bytes: data, sha256: sha(data), size: data.length });
    expect(await store.commit(staged)).toEqual({ sha256: sha(data), size: data.length, created: true });
    expect(await fs.readFile(store.path(sha(data)))).toEqual(data);
    await expect(fs.access(staged.tempPath)).rejects.toMatchObject({ code: 'ENOENT' });
    // write, link (ENOENT: no prefix directory yet), mkdir, link, unlink
    expect(counts).toEqual(pooled ? { loop: 0, pool: 5 } : { loop: 5, pool: 0 });
  });

  it('stores by the sha256 of the bytes, once', async () => {
    const data = Buffer.from('hello lesion');
    const a = await store.putBuffer(data);
    const b = await store.putBuffer(data);
    expect(a).toEqual({ sha256: sha(data), size: data.length, created: true });
    expect(b.created).toBe(false);
    expect(await fs.readFile(store.path(a.sha256))).toEqual(data);
    expect(store.path(a.sha256)).toBe(path.join(dir, a.sha256.slice(0, 2), a.sha256.slice(2, 4), a.sha256));
    expect(await store.count()).toBe(1);
  });

  it('hashes while streaming and stages without making the file visible', async () => {
    const staged = await store.stage(chunks(16));
    const expected = sha(Buffer.alloc(16 * 65536, 7));
    expect(staged).toMatchObject({ sha256: expected, size: 16 * 65536 });
    expect(await store.exists(expected)).toBe(false);
    await store.commit(staged);
    expect(await store.exists(expected)).toBe(true);
    await expect(fs.access(staged.tempPath)).rejects.toThrow();
  });

  it('makes a prefix directory when its first file is committed, and refuses a staged file that is gone', async () => {
    const staged = await store.stage(chunks(1, 9));
    await store.commit(staged);
    expect(await store.exists(staged.sha256)).toBe(true);
    const gone = await store.stage(chunks(1, 3));
    await fs.unlink(gone.tempPath);
    await expect(store.commit(gone)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await store.exists(gone.sha256)).toBe(false);
    await store.discard(gone); // already gone: nothing to do, no error
  });

  it('places a staged file and keeps the staged copy, from which restore puts a removed file back', async () => {
    const data = Buffer.from('placed then restored');
    const first = await store.place(await store.stage(Readable.from([data])));
    expect(first.created).toBe(true);
    const staged = await store.stage(Readable.from([data]));
    expect(await store.place(staged)).toMatchObject({ sha256: sha(data), created: false });
    expect(await fs.readFile(staged.tempPath)).toEqual(data); // kept for restore
    expect(await store.restore(staged)).toBe(false); // still there
    await store.remove(sha(data));
    expect(await store.restore(staged)).toBe(true);
    expect(await fs.readFile(store.path(sha(data)))).toEqual(data);
    await store.discard(staged);
    await expect(fs.access(staged.tempPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reads a stream whole, hashed as stage hashes it, and stages those bytes in one write', async () => {
    const whole = await readWhole(chunks(3, 5));
    const expected = Buffer.alloc(3 * 65536, 5);
    // Buffer.equals: jest's toEqual walks 196 608 bytes one by one (a second per comparison).
    expect(whole.bytes.equals(expected)).toBe(true);
    expect(whole).toMatchObject({ sha256: sha(expected), size: 3 * 65536 });
    expect(await store.stage(chunks(3, 5))).toMatchObject({ sha256: sha(expected), size: 3 * 65536 });
    const staged = await store.stageWhole(whole);
    expect(staged).toMatchObject({ sha256: sha(expected), size: 3 * 65536 });
    expect((await fs.readFile(staged.tempPath)).equals(expected)).toBe(true);
    await store.discard(staged);
  });

  it('stops at maxBytes and leaves no temp file', async () => {
    await expect(store.stage(chunks(10), { maxBytes: 3 * 65536 })).rejects.toBeInstanceOf(FileTooLargeError);
    expect(await store.count()).toBe(0);
    expect(await store.stage(chunks(3), { maxBytes: 3 * 65536 })).toMatchObject({ size: 3 * 65536 });
  });

  it('readWhole stops at maxBytes, reading no further', async () => {
    let made = 0;
    const input = new Readable({
      read() {
        this.push(made++ < 10 ? Buffer.alloc(65536) : null);
      },
    });
    await expect(readWhole(input, 3 * 65536)).rejects.toBeInstanceOf(FileTooLargeError);
    expect(made).toBeLessThan(10);
    expect(await readWhole(chunks(3), 3 * 65536)).toMatchObject({ size: 3 * 65536 });
  });

  it('keeps derived copies beside the original and removes them with it', async () => {
    const { sha256 } = await store.putBuffer(Buffer.from('x'));
    expect(await store.cachedPath(sha256, 'thumbnail')).toBeNull();
    const p = await store.putCached(sha256, 'thumbnail', Buffer.from('thumb'));
    expect(await store.cachedPath(sha256, 'thumbnail')).toBe(p);
    expect(await store.count()).toBe(2);
    await store.remove(sha256);
    expect(await store.count()).toBe(0);
    await store.remove(sha256); // idempotent
  });

  it('sweeps staged files left behind by a dead process, not recent ones', async () => {
    const old = await store.tempFile();
    const fresh = await store.tempFile();
    await fs.writeFile(old, 'x');
    await fs.writeFile(fresh, 'y');
    const hourAgo = new Date(Date.now() - 2 * 3_600_000);
    await fs.utimes(old, hourAgo, hourAgo);
    expect(await store.sweepStaging()).toBe(1);
    await expect(fs.access(old)).rejects.toThrow();
    await expect(fs.access(fresh)).resolves.toBeUndefined();
  });

  it('refuses names that are not a sha256 (no path tricks)', () => {
    expect(() => store.path('../../etc/passwd')).toThrow(/sha256/);
    expect(() => store.open('A'.repeat(64))).toThrow(/sha256/);
  });
});
