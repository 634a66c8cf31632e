import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataDirInUseError, lockDataDir } from './data-dir-lock';
import { socketFolder } from './embedded-postgres';

/** Issue [7], "The embedded database": one process per DATA_DIR, and a lock a crash leaves behind does not block. */
describe('DATA_DIR lock', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-lock-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const lockFile = () => path.join(dir, 'pglite.lock');
  const write = (holder: object) =>
    fs.writeFileSync(
      lockFile(),
      JSON.stringify({ host: os.hostname(), command: 'serve', since: '2026-01-01T00:00:00.000Z', ...holder }),
    );

  it('is exclusive while held (in this process too) and free again after release', () => {
    const lock = lockDataDir(dir, 'serve');
    expect(JSON.parse(fs.readFileSync(lock.file, 'utf8'))).toMatchObject({ pid: process.pid, command: 'serve' });
    expect(() => lockDataDir(dir, 'migrate')).toThrow(DataDirInUseError);
    lock.release();
    expect(fs.existsSync(lock.file)).toBe(false);
    lockDataDir(dir, 'migrate').release();
  });

  it('names a live holder and says what to do', () => {
    write({ pid: process.ppid }); // alive: the process that runs this test
    let err: unknown;
    try {
      lockDataDir(dir, 'create-admin');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataDirInUseError);
    expect((err as Error).message).toContain(`DATA_DIR ${dir} is in use by the server (pid ${process.ppid}`);
    expect((err as Error).message).toMatch(/stop that process first/);
  });

  it('takes over the lock of a holder that is gone (crashed), or whose pid now runs another process', () => {
    const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    write({ pid: Number(gone.stdout.trim()) });
    lockDataDir(dir, 'serve').release();
    if (fs.existsSync('/proc/self/stat')) {
      write({ pid: process.ppid, procStart: '1' }); // a pid reused by a process started at another time
      lockDataDir(dir, 'serve').release();
    }
    write({ pid: process.pid }); // our own pid, not held by us: a previous life (a container's pid 1)
    lockDataDir(dir, 'serve').release();
  });

  it('a holder on another host is never taken for gone', () => {
    write({ pid: 1, host: 'another-host' });
    expect(() => lockDataDir(dir, 'serve')).toThrow(/on another-host.*it ran on another host/s);
  });
});

describe('embedded PostgreSQL socket folder', () => {
  it('is DATA_DIR/pglite-socket (0700), or a private temporary folder when that path is too long for a socket', () => {
    const short = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-sock-'));
    const long = path.join(short, 'x'.repeat(120));
    try {
      const a = socketFolder(short);
      expect(a).toEqual({ dir: path.join(short, 'pglite-socket'), temporary: false });
      expect(fs.statSync(a.dir).mode & 0o777).toBe(0o700);
      const b = socketFolder(long);
      expect(b.temporary).toBe(true);
      expect(Buffer.byteLength(path.join(b.dir, '.s.PGSQL.5432'))).toBeLessThanOrEqual(103);
      expect(fs.statSync(b.dir).mode & 0o777).toBe(0o700);
      fs.rmSync(b.dir, { recursive: true, force: true });
    } finally {
      fs.rmSync(short, { recursive: true, force: true });
    }
  });
});
