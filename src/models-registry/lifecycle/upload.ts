import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RegistryError } from '../errors';
import type { ModelVersionInfo } from '../catalogue/catalogue';
import type { InstallOptions } from './lifecycle';

/** Bytes past the limit: the stream stops at once, before the rest is read. */
export function byteLimit(maxBytes: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > maxBytes)
        done(
          new RegistryError('PAYLOAD_TOO_LARGE', `archive.size: the package is larger than ${maxBytes} bytes`, {
            check: 'archive.size',
            field: 'file',
          }),
        );
      else done(null, chunk);
    },
  });
}

/**
 * An uploaded package: streamed to a file under `packagesDir/.incoming` (at most `maxBytes`),
 * installed (every package check; moved to `packagesDir/<name>/<version>` only once they pass),
 * and the uploaded file removed however it ends. `mapStreamError` turns a transport failure
 * (e.g. the upload layer's own size limit) into the client's error.
 */
export async function installUpload(
  registry: { readonly packagesDir: string; install(path: string, opts: InstallOptions): Promise<ModelVersionInfo> },
  stream: Readable,
  opts: InstallOptions & { maxBytes: number; mapStreamError?: (err: unknown) => Error },
): Promise<ModelVersionInfo> {
  const incoming = join(registry.packagesDir, '.incoming');
  await mkdir(incoming, { recursive: true });
  const file = join(incoming, `upload-${randomUUID()}`);
  try {
    try {
      await pipeline(stream, byteLimit(opts.maxBytes), createWriteStream(file, { flags: 'wx', mode: 0o600 }));
    } catch (err) {
      if (err instanceof RegistryError) throw err;
      throw opts.mapStreamError ? opts.mapStreamError(err) : err;
    }
    return await registry.install(file, {
      activate: opts.activate,
      uploadedBy: opts.uploadedBy,
      device: opts.device,
      threads: opts.threads,
      checkName: opts.checkName,
    });
  } finally {
    await rm(file, { force: true });
  }
}
