import { createHash, randomUUID } from 'node:crypto';
import fsSync, { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { QuickOnLoop } from '../quick-on-loop';

/** A file streamed to a temporary place and hashed, not yet visible under its sha256. */
export interface StagedFile {
  sha256: string;
  size: number;
  /** Local path of the staged bytes (readable until committed or discarded). */
  tempPath: string;
}

/** A stream read whole into memory, hashed and counted on the way (readWhole). */
export interface WholeFile {
  bytes: Buffer;
  sha256: string;
  size: number;
}

export interface PutResult {
  sha256: string;
  size: number;
  /** True when this call created the file; false when the same bytes were already stored. */
  created: boolean;
}

export interface StageOptions {
  /** Refuse (and delete the temp file) once more than this many bytes arrive. */
  maxBytes?: number;
}

/** Raised by `stage`/`put` when a stream passes `maxBytes`. */
export class FileTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`File is larger than ${maxBytes} bytes`);
    this.name = 'FileTooLargeError';
  }
}

/**
 * Content-addressed storage: files are named by the sha256 of their bytes, so the same bytes are
 * stored once. Derived files (thumbnails, overlays) live in a keyed cache beside them.
 * The local implementation below keeps everything under one directory; a shared-storage
 * implementation (S3, NFS) only has to provide the same methods.
 */
export interface FileStore {
  /** Streams to a temp file while hashing; nothing is visible under the sha256 yet. */
  stage(input: Readable, opts?: StageOptions): Promise<StagedFile>;
  /** Writes bytes already read whole (readWhole) to a temp file in one call; nothing is visible under the sha256 yet. */
  stageWhole(file: WholeFile): Promise<StagedFile>;
  /** Moves a staged file into place (or drops it when the same bytes are already there). */
  commit(staged: StagedFile): Promise<PutResult>;
  /** As commit, but keeps the staged file, for `restore` (discard it after). */
  place(staged: StagedFile): Promise<PutResult>;
  /**
   * Puts a placed file back from its staged copy if the stored file is gone (another process's clean-up
   * removed it before the row that keeps it committed); true when it had to. Keeps the staged file.
   */
  restore(staged: StagedFile): Promise<boolean>;
  /** Deletes a staged file that will not be committed. Idempotent. */
  discard(staged: StagedFile): Promise<void>;
  /** stage + commit. */
  put(input: Readable, opts?: StageOptions): Promise<PutResult>;
  putBuffer(data: Buffer): Promise<PutResult>;
  open(sha256: string): Readable;
  /** Local path of a stored file (local implementation; others may download to a temp path). */
  path(sha256: string): string;
  exists(sha256: string): Promise<boolean>;
  /** Removes a stored file and every cached derivative of it. Idempotent. */
  remove(sha256: string): Promise<void>;
  /** The cached derivative `variant` of `sha256`, or null when not made yet. */
  cachedPath(sha256: string, variant: string): Promise<string | null>;
  /** Stores a derivative (written to a temp file then renamed, so readers never see half a file). */
  putCached(sha256: string, variant: string, data: Buffer): Promise<string>;
  /** A fresh path in the staging area (a file written there and not committed is swept as a leftover). */
  tempFile(): Promise<string>;
  /** Number of files of any kind (originals, derivatives, staged), so tests can see that a failure left none behind. */
  count(): Promise<number>;
}

const SHA256 = /^[0-9a-f]{64}$/;
const VARIANT = /^[a-z0-9_.-]{1,64}$/;

export function assertSha256(sha256: string): void {
  if (!SHA256.test(sha256)) throw new Error(`Not a sha256: ${JSON.stringify(sha256).slice(0, 80)}`);
}

/** Counts and hashes a chunk (keeping it when `kept` is given); throws once the bytes pass `maxBytes`. */
function takeChunk(
  chunk: Buffer,
  hash: ReturnType<typeof createHash>,
  maxBytes: number,
  counter: { size: number },
  kept: Buffer[] | null,
): void {
  counter.size += chunk.length;
  if (counter.size > maxBytes) throw new FileTooLargeError(maxBytes);
  hash.update(chunk);
  kept?.push(chunk);
}

/** takeChunk on the bytes passing through. */
function hashingLimit(...args: [ReturnType<typeof createHash>, number, { size: number }, Buffer[] | null]): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      try {
        takeChunk(chunk, ...args);
      } catch (err) {
        return cb(err as Error);
      }
      cb(null, chunk);
    },
  });
}

/**
 * Reads a stream whole into memory, hashing and counting as it goes; FileTooLargeError once it passes `maxBytes`,
 * reading no further. For a caller that reads the bytes right after (an upload's probe and decode read no file
 * then) and stages them with stageWhole:
 * written in one call, a small file costs about half the CPU of a stream pipeline into a write stream
 * (0.35-0.5 ms against 0.85-1.0, measured alone).
 */
export async function readWhole(input: Readable, maxBytes = Number.MAX_SAFE_INTEGER): Promise<WholeFile> {
  const hash = createHash('sha256');
  const counter = { size: 0 };
  const kept: Buffer[] = [];
  // A throw ends the loop, which destroys the stream: nothing more is read.
  for await (const chunk of input) takeChunk(chunk as Buffer, hash, maxBytes, counter, kept);
  return { bytes: Buffer.concat(kept, counter.size), sha256: hash.digest('hex'), size: counter.size };
}

/**
 * Staged files up to this size are written by the store's QuickOnLoop (on the event loop while the disk is fast):
 * about the size of a dermoscopy thumbnail. A larger write would hold the loop for as long as it copies.
 */
export const SMALL_WRITE_BYTES = 64 * 1024;

/**
 * Local-disk store: `<root>/ab/cd/<sha256>` for originals, `<root>/derived/ab/<sha256>.<variant>`
 * for derivatives, `<root>/tmp` for staging (same filesystem, so rename is atomic).
 */
export class LocalFileStore implements FileStore {
  private readonly tmpDir: string;
  private ready: Promise<void> | null = null;

  /**
   * `calls`: where an upload's small calls run (staging a small file, linking it into place, unlinking the
   * staged copy): synchronously on the event loop while each takes under 2 ms, else through libuv's thread pool
   * for the next minute (QuickOnLoop).
   */
  constructor(
    readonly root: string,
    private readonly calls = new QuickOnLoop({ slowMs: 2, elsewhereMs: 60_000 }),
  ) {
    this.tmpDir = path.join(root, 'tmp');
  }

  /** A small file call: `onLoop` (synchronous) while such calls are quick, else `onPool` (see `calls`). */
  private small<A extends unknown[]>(
    onLoop: (...a: A) => unknown,
    onPool: (...a: A) => Promise<unknown>,
    ...args: A
  ): Promise<unknown> {
    return this.calls.run(
      () => onLoop(...args),
      () => onPool(...args),
    );
  }

  private ensureDirs(): Promise<void> {
    return (this.ready ??= fs
      .mkdir(this.tmpDir, { recursive: true })
      .then(() => void this.sweepStaging().catch(() => undefined)));
  }

  /**
   * Deletes staged files older than `maxAgeMs` (left by a process that died mid-upload). Runs once,
   * on first use; the age keeps it away from uploads in flight in other processes sharing DATA_DIR.
   */
  async sweepStaging(maxAgeMs = 3_600_000, now = Date.now()): Promise<number> {
    let removed = 0;
    for (const name of await fs.readdir(this.tmpDir).catch(() => [] as string[])) {
      const p = path.join(this.tmpDir, name);
      const st = await fs.stat(p).catch(() => null);
      if (st?.isFile() && now - st.mtimeMs > maxAgeMs) {
        await fs.rm(p, { force: true });
        removed++;
      }
    }
    return removed;
  }

  path(sha256: string): string {
    assertSha256(sha256);
    return path.join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  private derivedPath(sha256: string, variant: string): string {
    assertSha256(sha256);
    if (!VARIANT.test(variant)) throw new Error(`Bad variant name: ${variant}`);
    return path.join(this.root, 'derived', sha256.slice(0, 2), `${sha256}.${variant}`);
  }

  async stage(input: Readable, opts: StageOptions = {}): Promise<StagedFile> {
    await this.ensureDirs();
    const tempPath = this.stagingPath();
    const hash = createHash('sha256');
    const counter = { size: 0 };
    try {
      await pipeline(
        input,
        hashingLimit(hash, opts.maxBytes ?? Number.MAX_SAFE_INTEGER, counter, null),
        createWriteStream(tempPath, { flags: 'wx' }),
      );
    } catch (err) {
      await fs.rm(tempPath, { force: true });
      // Drain what is left so the multipart parser can move on to the next part.
      input.resume();
      throw err;
    }
    return { sha256: hash.digest('hex'), size: counter.size, tempPath };
  }

  async stageWhole(file: WholeFile): Promise<StagedFile> {
    await this.ensureDirs();
    const tempPath = this.stagingPath();
    try {
      const args = [tempPath, file.bytes, { flag: 'wx' }] as const;
      await (file.size <= SMALL_WRITE_BYTES
        ? this.small(fsSync.writeFileSync, fs.writeFile, ...args)
        : fs.writeFile(...args));
    } catch (err) {
      await fs.rm(tempPath, { force: true });
      throw err;
    }
    return { sha256: file.sha256, size: file.size, tempPath };
  }

  private stagingPath(): string {
    return path.join(this.tmpDir, `${randomUUID()}.part`);
  }

  async commit(staged: StagedFile): Promise<PutResult> {
    const placed = await this.place(staged);
    await this.discard(staged);
    return placed;
  }

  async place(staged: StagedFile): Promise<PutResult> {
    const target = this.path(staged.sha256);
    for (let attempt = 0; ; attempt++) {
      if (await this.linkInto(staged.tempPath, target))
        return { sha256: staged.sha256, size: staged.size, created: true };
      // Already there: touched, so the file GC (file-gc.ts) sees it as new and leaves it to the row
      // about to reference it. Gone between link and touch (the GC took it aside): link again.
      const now = new Date();
      const touched = await this.small(fsSync.utimesSync, fs.utimes, target, now, now).then(
        () => true,
        (err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT' || attempt >= 3) throw err;
          return false;
        },
      );
      if (touched) return { sha256: staged.sha256, size: staged.size, created: false };
    }
  }

  restore(staged: StagedFile): Promise<boolean> {
    return this.linkInto(staged.tempPath, this.path(staged.sha256));
  }

  /**
   * Links `from` at `target`; false when `target` already exists. link() fails with EEXIST instead of replacing:
   * the same bytes already stored (or placed by a concurrent commit) are kept, and only one call can report
   * that it created the file.
   */
  private async linkInto(from: string, target: string): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.small(fsSync.linkSync, fs.link, from, target);
        return true;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // The first file under this prefix: its directory is made then, not before every commit (each
        // file-system call is a trip through the thread pool).
        if (code === 'ENOENT' && attempt < 3) {
          await this.small(fsSync.mkdirSync, fs.mkdir, path.dirname(target), { recursive: true });
          continue;
        }
        if (code === 'EEXIST') return false;
        throw err;
      }
    }
  }

  async discard(staged: StagedFile): Promise<void> {
    // unlink, not rm: rm looks before it deletes (one more call), and a staged path is only ever a file.
    await this.small(fsSync.unlinkSync, fs.unlink, staged.tempPath).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  async put(input: Readable, opts?: StageOptions): Promise<PutResult> {
    return this.commit(await this.stage(input, opts));
  }

  async putBuffer(data: Buffer): Promise<PutResult> {
    // Hashed and written whole: a stream pipeline per small result file (a Grad-CAM map) cost more than the write.
    const sha256 = createHash('sha256').update(data).digest('hex');
    return this.commit(await this.stageWhole({ bytes: data, sha256, size: data.length }));
  }

  open(sha256: string): Readable {
    return createReadStream(this.path(sha256));
  }

  async exists(sha256: string): Promise<boolean> {
    try {
      await fs.access(this.path(sha256));
      return true;
    } catch {
      return false;
    }
  }

  async remove(sha256: string): Promise<void> {
    await fs.rm(this.path(sha256), { force: true });
    const dir = path.dirname(this.derivedPath(sha256, 'x'));
    let names: string[] = [];
    try {
      names = await fs.readdir(dir);
    } catch {
      return;
    }
    await Promise.all(
      names.filter((n) => n.startsWith(`${sha256}.`)).map((n) => fs.rm(path.join(dir, n), { force: true })),
    );
  }

  async cachedPath(sha256: string, variant: string): Promise<string | null> {
    const p = this.derivedPath(sha256, variant);
    try {
      await fs.access(p);
      return p;
    } catch {
      return null;
    }
  }

  async putCached(sha256: string, variant: string, data: Buffer): Promise<string> {
    await this.ensureDirs();
    const p = this.derivedPath(sha256, variant);
    await fs.mkdir(path.dirname(p), { recursive: true });
    const tmp = await this.tempFile();
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, p);
    return p;
  }

  async tempFile(): Promise<string> {
    await this.ensureDirs();
    return this.stagingPath();
  }

  async count(): Promise<number> {
    const walk = async (dir: string): Promise<number> => {
      const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
      let n = 0;
      for (const e of entries) n += e.isDirectory() ? await walk(path.join(dir, e.name)) : 1;
      return n;
    };
    return walk(this.root);
  }
}

/** The store under DATA_DIR/files. */
export function createFileStore(dataDir: string): FileStore {
  return new LocalFileStore(path.join(dataDir, 'files'));
}
