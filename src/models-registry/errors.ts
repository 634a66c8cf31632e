/**
 * Errors of the model registry. `code` is one of the client-facing codes of src/errors.ts
 * (AppError); `check` names the validation step that refused a package, `field` the manifest
 * field or package file at fault. When src/errors.ts lands this can extend AppError unchanged.
 */
export type RegistryErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'MODEL_UNAVAILABLE';

/** The package checks, in the order they run (docs/models.md describes each). */
export type PackageCheck =
  | 'archive.type'
  | 'archive.corrupt'
  | 'archive.path'
  | 'archive.link'
  | 'archive.size'
  | 'archive.count'
  | 'package.manifest'
  | 'manifest.schema'
  | 'version.exists'
  | 'files.missing'
  | 'files.unlisted'
  | 'files.sha256'
  | 'onnx.load'
  | 'onnx.io'
  | 'golden';

export class RegistryError extends Error {
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    readonly extra: { check?: PackageCheck | string; field?: string } = {},
  ) {
    super(message);
    this.name = 'RegistryError';
  }
  get check(): string | undefined {
    return this.extra.check;
  }
  get field(): string | undefined {
    return this.extra.field;
  }
}

/** A package refused by one of its checks; the message starts with the check's name. */
export function packageError(check: PackageCheck, message: string, field?: string, code: RegistryErrorCode = 'BAD_USER_INPUT'): RegistryError {
  return new RegistryError(code, `${check}: ${message}`, { check, field });
}

/** First meaningful part of an onnxruntime error: no source paths, at most `max` characters. */
export function shortError(e: unknown, max = 200): string {
  let s = e instanceof Error ? e.message : String(e);
  s = s
    .replace(/\S*onnxruntime_src\S*\s*/g, '')
    .replace(/\/(?:[^\s/]+\/)+([^\s/:]+)/g, '$1') // no server paths in messages: keep the file name
    .replace(/^(Error: )+/, '')
    .replace(/\s+/g, ' ')
    .trim();
  // onnxruntime prefixes its reason with the C++ condition that failed; the reason starts at "Failed".
  const failed = s.search(/\bFailed\b/);
  if (failed > 0) s = s.slice(failed);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
