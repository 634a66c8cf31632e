import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import busboy from 'busboy';
import { WriteStream } from 'fs-capacitor';
import Upload from 'graphql-upload/Upload.mjs';
import type { FileUpload } from 'graphql-upload/processRequest.mjs';

/** The `operations` field: one GraphQL request or a batch of them. */
type Operations = Record<string, unknown> | Record<string, unknown>[];

const SPEC = 'https://github.com/jaydenseric/graphql-multipart-request-spec';

/** An error the upload door answers with its HTTP status (the shape graphql-upload's errors have). */
function httpError(status: number, message: string): Error {
  return Object.assign(new Error(message), { status, expose: true });
}

/** Bytes of upload parts held in memory by every request of the process together. */
export class MemoryBudget {
  private used = 0;
  constructor(readonly bytes: number) {}
  take(n: number): boolean {
    if (this.used + n > this.bytes) return false;
    this.used += n;
    return true;
  }
  give(n: number): void {
    this.used -= n;
  }
  get inUse(): number {
    return this.used;
  }
}

export interface MultipartLimits {
  maxFieldSize?: number;
  maxFileSize: number;
  maxFiles: number;
  /** Where the files' bytes are kept while the request lasts, up to its size; past it, in temp files. */
  memory: MemoryBudget;
}

/**
 * graphql-upload's `processRequest` (the GraphQL multipart request spec: `operations`, then `map`, then the
 * files), for `graphqlUploadExpress({ processRequest })`, with one difference: a file part is kept in memory
 * while the process-wide budget allows, and reaches its resolver once it has arrived whole, instead of being
 * spooled to a temp file of its own. An image upload costs a temp file's create, writes, reads, close and
 * unlink otherwise, each a trip through the thread pool. A part that does not fit the budget (a model package,
 * many uploads at once) goes on to a temp file as graphql-upload does (fs-capacitor), and reaches its resolver
 * at once. Errors, limits and their statuses are graphql-upload's; what every request held is let go when its
 * response closes.
 */
export function processMultipart(
  request: IncomingMessage,
  response: ServerResponse,
  limits: MultipartLimits,
): Promise<Operations> {
  const { maxFieldSize = 1_000_000, maxFileSize, maxFiles, memory } = limits;
  return new Promise((resolve, reject) => {
    let released = false;
    let exitError: Error | undefined;
    let operations: Operations | undefined;
    let map: Map<string, Upload> | undefined;
    const parts: Part[] = [];
    const parser = busboy({
      headers: request.headers,
      defParamCharset: 'utf8',
      limits: { fieldSize: maxFieldSize, fields: 2, fileSize: maxFileSize, files: maxFiles },
    });

    function exit(error: Error, isParserError = false): void {
      if (exitError) return;
      exitError = error;
      if (map) for (const upload of map.values()) if (!upload.file) upload.reject(error);
      if (isParserError) parser.destroy();
      else parser.destroy(error);
      request.unpipe(parser);
      // A large body can leave the request paused once the parser is gone: resume it later in the loop.
      setImmediate(() => request.resume());
      reject(error);
    }

    parser.on('field', (name, value, { valueTruncated }) => {
      if (valueTruncated)
        return exit(httpError(413, `The ‘${name}’ multipart field value exceeds the ${maxFieldSize} byte size limit.`));
      if (name === 'operations') {
        try {
          operations = JSON.parse(value) as Operations;
        } catch {
          return exit(httpError(400, `Invalid JSON in the ‘operations’ multipart field (${SPEC}).`));
        }
        if (typeof operations !== 'object' || !operations)
          return exit(httpError(400, `Invalid type for the ‘operations’ multipart field (${SPEC}).`));
      } else if (name === 'map') {
        if (!operations)
          return exit(httpError(400, `Misordered multipart fields; ‘map’ should follow ‘operations’ (${SPEC}).`));
        let parsed: unknown;
        try {
          parsed = JSON.parse(value);
        } catch {
          return exit(httpError(400, `Invalid JSON in the ‘map’ multipart field (${SPEC}).`));
        }
        if (typeof parsed !== 'object' || !parsed || Array.isArray(parsed))
          return exit(httpError(400, `Invalid type for the ‘map’ multipart field (${SPEC}).`));
        const entries = Object.entries(parsed);
        // Checked against the map, whatever number of files the body then carries.
        if (entries.length > maxFiles) return exit(httpError(413, `${maxFiles} max file uploads exceeded.`));
        map = new Map();
        for (const [field, paths] of entries) {
          if (!Array.isArray(paths))
            return exit(
              httpError(400, `Invalid type for the ‘map’ multipart field entry key ‘${field}’ array (${SPEC}).`),
            );
          const upload = new Upload();
          map.set(field, upload);
          for (const [index, at] of paths.entries()) {
            const where = `the ‘map’ multipart field entry key ‘${field}’ array index ‘${index}’ value`;
            if (typeof at !== 'string') return exit(httpError(400, `Invalid type for ${where} (${SPEC}).`));
            if (!setAtPath(operations, at, upload))
              return exit(httpError(400, `Invalid object path for ${where} ‘${at}’ (${SPEC}).`));
          }
        }
        resolve(operations!);
      }
    });

    parser.on('file', (name, stream, { filename, encoding, mimeType }) => {
      if (!map) {
        ignore(stream);
        return exit(httpError(400, `Misordered multipart fields; files should follow ‘map’ (${SPEC}).`));
      }
      const upload = map.get(name);
      // A part the map does not name is skipped; the rest of the request still counts.
      if (!upload) return ignore(stream);
      parts.push(
        new Part(stream, { filename: filename ?? '', encoding, mimetype: mimeType }, upload, memory, maxFileSize, () =>
          released ? exitError : undefined,
        ),
      );
    });

    parser.once('filesLimit', () => exit(httpError(413, `${maxFiles} max file uploads exceeded.`)));

    parser.once('finish', () => {
      request.unpipe(parser);
      request.resume();
      if (!operations) return exit(httpError(400, `Missing multipart field ‘operations’ (${SPEC}).`));
      if (!map) return exit(httpError(400, `Missing multipart field ‘map’ (${SPEC}).`));
      for (const upload of map.values())
        if (!upload.file) upload.reject(httpError(400, 'File missing in the request.'));
    });

    // Every error, not once: a malformed part header and an unexpected end can both come.
    parser.on('error', (error: Error) => exit(error, true));

    response.once('close', () => {
      released = true;
      for (const part of parts) part.release();
    });

    request.once('close', () => {
      if (!request.readableEnded) exit(httpError(499, 'Request disconnected during file upload stream parsing.'));
    });

    request.pipe(parser);
  });
}

/**
 * One file part: its chunks kept in memory while `memory` allows (its resolver gets it once whole), else a
 * temp file it streams into (its resolver gets it at once and reads while it arrives).
 */
class Part {
  private chunks: Buffer[] | null = [];
  private held = 0;
  private spool: WriteStream | null = null;
  private error: Error | undefined;

  constructor(
    private readonly stream: Readable,
    private readonly info: Pick<FileUpload, 'filename' | 'encoding' | 'mimetype'>,
    private readonly upload: Upload,
    private readonly memory: MemoryBudget,
    maxFileSize: number,
    /** The request's error once its response closed (reading then fails with it). */
    private readonly releasedWith: () => Error | undefined,
  ) {
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('limit', () =>
      this.fail(httpError(413, `File truncated as it exceeds the ${maxFileSize} byte size limit.`)),
    );
    stream.on('error', (error: Error) => this.fail(error));
    stream.on('end', () => {
      if (!this.spool && !this.upload.file)
        this.upload.resolve(this.file(() => Readable.from(this.chunks ?? [], { objectMode: false })));
    });
  }

  private onData(chunk: Buffer): void {
    if (this.spool || !this.chunks) return; // piped into the spool from now on, or let go
    if (this.memory.take(chunk.length)) {
      this.held += chunk.length;
      this.chunks.push(chunk);
      return;
    }
    // Past the budget: what arrived so far, then the rest of the part, into a temp file.
    const spool = (this.spool = new WriteStream());
    spool.on('error', () => {
      this.stream.unpipe();
      this.stream.resume();
    });
    for (const c of this.chunks) spool.write(c);
    spool.write(chunk);
    this.letGoOfMemory();
    this.stream.pipe(spool);
    this.upload.resolve(
      Object.assign(
        this.file(() => spool.createReadStream()),
        { capacitor: spool },
      ),
    );
  }

  private fail(error: Error): void {
    this.error ??= error;
    this.stream.unpipe();
    this.spool?.destroy(error);
    this.letGoOfMemory();
    // A part still in memory answers with its error when read, as a spooled one does.
    if (!this.spool && !this.upload.file) this.upload.resolve(this.file(() => Readable.from([])));
  }

  private file(read: () => Readable): FileUpload {
    return {
      ...this.info,
      createReadStream: () => {
        const error = this.error ?? this.releasedWith();
        if (error) throw error;
        return read();
      },
    } as FileUpload;
  }

  private letGoOfMemory(): void {
    if (!this.chunks) return;
    this.memory.give(this.held);
    this.held = 0;
    this.chunks = null;
  }

  /** The request's response closed: memory back to the budget, the temp file removed once its readers end. */
  release(): void {
    this.letGoOfMemory();
    this.spool?.release();
  }
}

/** Sets `value` at a dot path of `target` (`variables.files.0`), as object-path would; false for a path it cannot take. */
function setAtPath(target: unknown, path: string, value: unknown): boolean {
  const keys = path.split('.');
  if (keys.some((k) => k === '__proto__' || k === 'constructor' || k === 'prototype')) return false;
  let node = target as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) {
    if (node[key] === undefined || node[key] === null) node[key] = {};
    if (typeof node[key] !== 'object') return false;
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value;
  return true;
}

/** A part nobody reads: drained, its errors swallowed. */
function ignore(stream: Readable): void {
  stream.on('error', () => undefined);
  stream.resume();
}
