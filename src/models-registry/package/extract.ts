import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as yauzl from 'yauzl';
import { isSafeRelativePath } from './manifest';
import { packageError, RegistryError, shortError } from '../errors';

/**
 * Safe extraction of package archives (.zip, .tar.gz, .tar) into an empty folder: entry names
 * stay inside it, links and devices are refused, and the byte and file-count limits hold for
 * the sizes an archive declares and for the bytes actually written.
 */
export interface ExtractLimits {
  /** All files together, uncompressed. */
  maxTotalBytes: number;
  /** Any one file, uncompressed. */
  maxFileBytes: number;
  /** Files and folders. */
  maxEntries: number;
}

export const DEFAULT_LIMITS: ExtractLimits = {
  maxTotalBytes: 1024 * 1024 * 1024,
  maxFileBytes: 768 * 1024 * 1024,
  maxEntries: 1000,
};

export type ArchiveKind = 'zip' | 'tar.gz' | 'tar';

/** The archive type from its first bytes (not its name); null when it is neither zip nor tar. */
export async function sniffArchive(file: string): Promise<ArchiveKind | null> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    if (bytesRead >= 4 && head.readUInt32LE(0) === 0x04034b50) return 'zip';
    if (bytesRead >= 4 && head.readUInt32LE(0) === 0x06054b50) return 'zip'; // empty zip
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'tar.gz';
    if (bytesRead >= 262 && head.toString('latin1', 257, 262) === 'ustar') return 'tar';
    return null;
  } finally {
    await fh.close();
  }
}

/** Running totals shared by all entries of one archive. */
class Budget {
  bytes = 0;
  entries = 0;
  constructor(readonly limits: ExtractLimits) {}

  /** Counts one entry and checks what it declares, before any of its bytes are read. */
  admit(name: string, declaredBytes: number, declaredTotal?: number): void {
    if (++this.entries > this.limits.maxEntries) {
      throw packageError('archive.count', `more than ${this.limits.maxEntries} entries`, name, 'PAYLOAD_TOO_LARGE');
    }
    if (declaredBytes > this.limits.maxFileBytes) {
      throw packageError(
        'archive.size',
        `"${name}" declares ${declaredBytes} bytes, over the ${this.limits.maxFileBytes}-byte limit for one file`,
        name,
        'PAYLOAD_TOO_LARGE',
      );
    }
    if (declaredTotal !== undefined && declaredTotal > this.limits.maxTotalBytes) {
      throw packageError(
        'archive.size',
        `entries declare ${declaredTotal} bytes in all, over the ${this.limits.maxTotalBytes}-byte limit`,
        name,
        'PAYLOAD_TOO_LARGE',
      );
    }
  }

  /** Counts actual bytes as they stream; refuses more than declared or more than the limits. */
  meter(name: string, declaredBytes: number): Transform {
    let fileBytes = 0;
    return new Transform({
      transform: (chunk: Buffer, _enc, cb: TransformCallback) => {
        fileBytes += chunk.length;
        this.bytes += chunk.length;
        if (fileBytes > declaredBytes)
          return cb(
            packageError(
              'archive.size',
              `"${name}" holds more bytes than the ${declaredBytes} it declares`,
              name,
              'PAYLOAD_TOO_LARGE',
            ),
          );
        if (fileBytes > this.limits.maxFileBytes)
          return cb(
            packageError(
              'archive.size',
              `"${name}" is over the ${this.limits.maxFileBytes}-byte limit for one file`,
              name,
              'PAYLOAD_TOO_LARGE',
            ),
          );
        if (this.bytes > this.limits.maxTotalBytes)
          return cb(
            packageError(
              'archive.size',
              `files are over the ${this.limits.maxTotalBytes}-byte limit in all`,
              name,
              'PAYLOAD_TOO_LARGE',
            ),
          );
        cb(null, chunk);
      },
    });
  }
}

/**
 * Normalises an entry name and refuses one that would land outside the folder. Returns null
 * for the archive's own root ("./").
 */
export function entryTarget(dest: string, rawName: string): { rel: string; abs: string } | null {
  let rel = rawName.replace(/\/+$/, '');
  while (rel.startsWith('./')) rel = rel.slice(2);
  if (rel === '' || rel === '.') {
    if (rawName.startsWith('/')) throw packageError('archive.path', `entry "${rawName}" has an absolute path`, rawName);
    return null;
  }
  if (!isSafeRelativePath(rel))
    throw packageError('archive.path', `entry "${rawName}" points outside the package folder`, rawName);
  const abs = resolve(dest, rel);
  if (!abs.startsWith(resolve(dest) + sep))
    throw packageError('archive.path', `entry "${rawName}" points outside the package folder`, rawName);
  return { rel, abs };
}

/** Extracts an archive into `dest` (an existing empty folder); returns the relative paths of the files written. */
export async function extractArchive(
  archive: string,
  dest: string,
  limits: ExtractLimits = DEFAULT_LIMITS,
): Promise<string[]> {
  const kind = await sniffArchive(archive);
  if (!kind)
    throw packageError(
      'archive.type',
      'not a .zip, .tar.gz or .tar archive (or a package folder)',
      undefined,
      'UNSUPPORTED_MEDIA_TYPE',
    );
  try {
    return kind === 'zip'
      ? await extractZip(archive, dest, new Budget(limits))
      : await extractTar(archive, dest, new Budget(limits));
  } catch (e) {
    // File-system clashes inside the archive (a file and a folder of one name, duplicates).
    if (e instanceof RegistryError) throw e;
    throw packageError('archive.corrupt', shortError(e));
  }
}

// ---- zip ----------------------------------------------------------------------------------

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/** yauzl's own name checks, mapped to our check names. */
function zipOpenError(e: Error): RegistryError {
  if (/absolute path|invalid relative path|invalid characters in fileName/.test(e.message)) {
    return packageError(
      'archive.path',
      `entry ${e.message.replace(/^.*?: /, '"').replace(/$/, '"')} points outside the package folder`,
    );
  }
  return packageError('archive.corrupt', `unreadable zip: ${e.message}`);
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((ok, fail) =>
    yauzl.open(
      file,
      { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false },
      (err, zip) => (err ? fail(zipOpenError(err)) : ok(zip!)),
    ),
  );
}

function readCentralDirectory(zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  return new Promise((ok, fail) => {
    const entries: yauzl.Entry[] = [];
    zip.on('entry', (e: yauzl.Entry) => {
      entries.push(e);
      zip.readEntry();
    });
    zip.on('end', () => ok(entries));
    zip.on('error', (e: Error) => fail(zipOpenError(e)));
    zip.readEntry();
  });
}

function zipEntryType(e: yauzl.Entry): 'file' | 'dir' | 'link' | 'other' {
  const madeByUnix = e.versionMadeBy >> 8 === 3;
  const mode = madeByUnix ? (e.externalFileAttributes >>> 16) & 0xffff : 0;
  const type = mode & S_IFMT;
  if (type === S_IFLNK) return 'link';
  if (e.fileName.endsWith('/') || type === S_IFDIR) return 'dir';
  if (type === 0 || type === S_IFREG) return 'file';
  return 'other';
}

async function extractZip(archive: string, dest: string, budget: Budget): Promise<string[]> {
  const zip = await openZip(archive);
  try {
    // Pass 1, central directory only: names, types and declared sizes are all checked
    // before a single byte is inflated.
    const entries = await readCentralDirectory(zip);
    let declaredTotal = 0;
    const plan: Array<{ entry: yauzl.Entry; rel: string; abs: string; dir: boolean }> = [];
    for (const entry of entries) {
      const target = entryTarget(dest, entry.fileName);
      const type = zipEntryType(entry);
      if (type === 'link')
        throw packageError('archive.link', `entry "${entry.fileName}" is a symbolic link`, entry.fileName);
      if (type === 'other')
        throw packageError('archive.link', `entry "${entry.fileName}" is a device, FIFO or socket`, entry.fileName);
      if (entry.isEncrypted())
        throw packageError('archive.corrupt', `entry "${entry.fileName}" is encrypted`, entry.fileName);
      declaredTotal += type === 'file' ? entry.uncompressedSize : 0;
      budget.admit(entry.fileName, type === 'file' ? entry.uncompressedSize : 0, declaredTotal);
      if (target) plan.push({ entry, rel: target.rel, abs: target.abs, dir: type === 'dir' });
    }
    // Pass 2: inflate, metering the real bytes.
    const files: string[] = [];
    for (const { entry, rel, abs, dir } of plan) {
      if (dir) {
        mkdirSync(abs, { recursive: true });
        continue;
      }
      mkdirSync(dirname(abs), { recursive: true });
      const stream = await new Promise<NodeJS.ReadableStream>((ok, fail) =>
        zip.openReadStream(entry, (err, s) =>
          err ? fail(packageError('archive.corrupt', `${entry.fileName}: ${err.message}`, entry.fileName)) : ok(s!),
        ),
      );
      await pipeline(
        stream,
        budget.meter(entry.fileName, entry.uncompressedSize),
        createWriteStream(abs, { flags: 'wx' }),
      ).catch((e: Error) => {
        if (e instanceof RegistryError) throw e;
        // yauzl stops an entry that inflates to more than its declared size.
        if (/too many bytes/.test(e.message))
          throw packageError(
            'archive.size',
            `"${entry.fileName}" holds more bytes than the ${entry.uncompressedSize} it declares`,
            entry.fileName,
            'PAYLOAD_TOO_LARGE',
          );
        throw packageError('archive.corrupt', `${entry.fileName}: ${e.message}`, entry.fileName);
      });
      files.push(rel);
    }
    return files;
  } finally {
    zip.close();
  }
}

// ---- tar ----------------------------------------------------------------------------------

async function extractTar(archive: string, dest: string, budget: Budget): Promise<string[]> {
  const tar = await import('tar'); // loaded with the first .tar package, not with the server
  const files: string[] = [];
  const writes: Promise<void>[] = [];
  let failure: Error | undefined;
  const input = createReadStream(archive);
  const parser = new tar.Parser({
    strict: true,
    // The byte limits are the real guard; tiny text files compress far better than tar's default ratio allows.
    maxDecompressionRatio: Number.MAX_SAFE_INTEGER,
    onReadEntry: (entry) => {
      if (failure) return void entry.resume();
      try {
        const name = entry.path;
        if (entry.type === 'SymbolicLink' || entry.type === 'Link') {
          throw packageError(
            'archive.link',
            `entry "${name}" is a ${entry.type === 'Link' ? 'hard' : 'symbolic'} link`,
            name,
          );
        }
        const isFile = entry.type === 'File' || entry.type === 'OldFile' || entry.type === 'ContiguousFile';
        if (!isFile && entry.type !== 'Directory')
          throw packageError('archive.link', `entry "${name}" is a ${entry.type}, not a file or folder`, name);
        const target = entryTarget(dest, name);
        // tar headers come one at a time, so the declared size is checked entry by entry, before its data.
        budget.admit(name, isFile ? entry.size : 0, isFile ? budget.bytes + entry.size : undefined);
        if (!target || !isFile) {
          if (target) mkdirSync(target.abs, { recursive: true });
          return void entry.resume();
        }
        mkdirSync(dirname(target.abs), { recursive: true });
        files.push(target.rel);
        writes.push(
          pipeline(entry, budget.meter(name, entry.size), createWriteStream(target.abs, { flags: 'wx' })).catch(
            (e: Error) => {
              fail(e instanceof RegistryError ? e : packageError('archive.corrupt', `${name}: ${e.message}`, name));
            },
          ),
        );
      } catch (e) {
        entry.resume();
        fail(e as Error);
      }
    },
  });
  function fail(e: Error): void {
    if (failure) return;
    failure = e;
    input.destroy();
    parser.abort(e);
  }
  await new Promise<void>((ok) => {
    parser.on('error', (e: Error) =>
      fail(e instanceof RegistryError ? e : packageError('archive.corrupt', `unreadable tar: ${e.message}`)),
    );
    parser.on('abort', () => ok());
    parser.on('end', () => ok());
    parser.on('close', () => ok());
    input.on('error', (e) => fail(packageError('archive.corrupt', e.message)));
    input.pipe(parser);
  });
  // Every write has settled before returning, so the caller can remove the folder safely.
  await Promise.allSettled(writes);
  if (failure) throw failure;
  return files;
}

/** Joins a package-relative path onto a folder (after the path has been checked). */
export function packagePath(root: string, rel: string): string {
  return join(root, ...rel.split('/'));
}
