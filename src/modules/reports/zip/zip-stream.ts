import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { PassThrough, Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { cellText, csvLine } from '../csv/cells';
import { UniqueNames } from './entry-names';

/**
 * A streaming ZIP writer over archiver: entries are pulled from an async source one at a time and
 * each is written (deflated) before the next is asked for, so only one entry's stream is open and
 * memory stays flat however many entries there are. The output's backpressure holds the source.
 */

export interface ZipSourceEntry {
  /** Wanted path inside the archive; cleaned and de-duplicated (see entry-names.ts). */
  name: string;
  /** The bytes: a stream, a buffer, or the path of a file on disk. */
  source: Readable | Buffer | string;
  /** Modification time written into the entry (default: the archive's `date`). */
  date?: Date;
}

export interface ZipManifestRow {
  /** The entry's name in the archive, after cleaning. */
  name: string;
  /** The name the caller asked for. */
  requested: string;
  bytes: number;
  sha256: string;
}

export interface ZipOptions {
  /** Name of the manifest CSV entry, written last; `null` writes none. Default `manifest.csv`. */
  manifestName?: string | null;
  /** Deflate level 0–9 (default 6; 0 stores). */
  level?: number;
  /** Entry time when an entry has none (default: now). */
  date?: Date;
}

export interface ZipResult {
  entries: ZipManifestRow[];
  /** Bytes written to `out`. */
  bytes: number;
}

export const MANIFEST_COLUMNS = ['name', 'requested_name', 'bytes', 'sha256'] as const;

function manifestCsv(rows: readonly ZipManifestRow[]): string {
  let text = csvLine(MANIFEST_COLUMNS);
  for (const r of rows) text += csvLine([cellText(r.name), cellText(r.requested), String(r.bytes), r.sha256]);
  return text;
}

function measuring(row: ZipManifestRow): { tap: Transform; done: () => void } {
  const hash = createHash('sha256');
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      row.bytes += chunk.length;
      cb(null, chunk);
    },
  });
  return { tap, done: () => (row.sha256 = hash.digest('hex')) };
}

/** Writes every entry, then the manifest, into a ZIP streamed to `out`; resolves once `out` has finished. */
export async function zipStream(
  entries: AsyncIterable<ZipSourceEntry> | Iterable<ZipSourceEntry>,
  out: Writable,
  opts: ZipOptions = {},
): Promise<ZipResult> {
  const manifestName = opts.manifestName === undefined ? 'manifest.csv' : opts.manifestName;
  const date = opts.date ?? new Date();
  // Loaded with the first archive, as the PDF reports' pdfkit is: a server that never zips never pays for it.
  const { ZipArchive } = await import('archiver');
  const archive = new ZipArchive({ zlib: { level: opts.level ?? 6 }, forceZip64: false });
  const names = new UniqueNames(manifestName ? [manifestName] : []);
  const rows: ZipManifestRow[] = [];
  const written = pipeline(archive, out);
  // Fails the loop below as soon as the archive or the output fails.
  let failure: Error | null = null;
  const failed = written.then(
    () => undefined,
    (e: Error) => {
      failure = e;
    },
  );
  // One promise for the whole archive (not one per entry: each would be held until the archive ends).
  const closed = failed.then(() => Promise.reject(failure ?? new Error('the ZIP output closed early')));
  closed.catch(() => undefined);
  const step = (p: Promise<unknown>) => Promise.race([p, closed]);

  try {
    for await (const e of entries) {
      const row: ZipManifestRow = { name: names.take(e.name), requested: e.name, bytes: 0, sha256: '' };
      const entryWritten = new Promise<void>((resolve) => archive.once('entry', () => resolve()));
      if (Buffer.isBuffer(e.source)) {
        row.bytes = e.source.length;
        row.sha256 = createHash('sha256').update(e.source).digest('hex');
        archive.append(e.source, { name: row.name, date: e.date ?? date, mode: 0o644 });
        await step(entryWritten);
      } else {
        const src = typeof e.source === 'string' ? createReadStream(e.source) : e.source;
        const m = measuring(row);
        const body = new PassThrough();
        const piped = pipeline(src, m.tap, body);
        archive.append(body, { name: row.name, date: e.date ?? date, mode: 0o644 });
        await step(Promise.all([piped, entryWritten]));
        m.done();
      }
      rows.push(row);
    }
    if (manifestName) {
      const text = Buffer.from(manifestCsv(rows), 'utf8');
      const entryWritten = new Promise<void>((resolve) => archive.once('entry', () => resolve()));
      archive.append(text, { name: manifestName, date, mode: 0o644 });
      await step(entryWritten);
    }
    await archive.finalize();
    await written;
  } catch (e) {
    archive.abort();
    out.destroy(e as Error);
    await written.catch(() => undefined);
    throw e;
  }
  return { entries: rows, bytes: archive.pointer() };
}
