import { AppError, type ErrorCode } from '../infra/errors';

/**
 * Errors of the model registry: client-facing AppErrors (`extensions.code`) that also name the
 * `check` that refused a package and the manifest `field` or package file at fault.
 */
export type RegistryErrorCode = Extract<
  ErrorCode,
  'BAD_USER_INPUT' | 'NOT_FOUND' | 'CONFLICT' | 'PAYLOAD_TOO_LARGE' | 'UNSUPPORTED_MEDIA_TYPE' | 'MODEL_UNAVAILABLE'
>;

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

export class RegistryError extends AppError {
  readonly check?: PackageCheck | string;
  readonly field?: string;
  constructor(
    code: RegistryErrorCode,
    message: string,
    extra: {
      check?: PackageCheck | string;
      field?: string;
      issues?: Array<{ path: string; message: string }>;
      /** A stable reason a client branches on, where the check alone does not say it. */
      reason?: string;
    } = {},
  ) {
    const extensions: Record<string, unknown> = {};
    if (extra.check !== undefined) extensions.check = extra.check;
    if (extra.field !== undefined) extensions.field = extra.field;
    if (extra.reason !== undefined) extensions.reason = extra.reason;
    if (extra.issues !== undefined) extensions.issues = extra.issues;
    super(code, message, extensions);
    this.name = 'RegistryError';
    this.check = extra.check;
    this.field = extra.field;
  }
}

/** A package refused by one of its checks; the message starts with the check's name. */
export function packageError(
  check: PackageCheck,
  message: string,
  field?: string,
  code: RegistryErrorCode = 'BAD_USER_INPUT',
  details: Record<string, unknown> = {},
): RegistryError {
  return new RegistryError(code, `${check}: ${message}`, { check, field, ...details });
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
