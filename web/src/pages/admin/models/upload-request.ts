// uploadModelPackage as one GraphQL multipart request over XMLHttpRequest: fetch reports no upload progress, and
// a package may be hundreds of megabytes. The answer comes once every check has run (and, with activate, the swap).
import { print } from 'graphql';
import { freshAccessToken } from '../../../app/session';
import type { AdminUploadModelPackageMutation } from '../../../gql/graphql';
import { UploadModelPackageMutation } from './operations';

export interface UploadError {
  message: string;
  code?: string;
  /** The package check that refused it (docs/models.md), when one did. */
  check?: string;
  field?: string;
  issues?: Array<{ path: string; message: string }>;
}

export type UploadResult =
  | { ok: true; version: NonNullable<AdminUploadModelPackageMutation['uploadModelPackage']> }
  | { ok: false; errors: UploadError[] };

interface RawError {
  message?: unknown;
  extensions?: Record<string, unknown>;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function toErrors(raw: RawError[]): UploadError[] {
  return raw.map((e) => {
    const ext = e.extensions ?? {};
    return {
      message: str(e.message) ?? 'The package was refused',
      code: str(ext.code),
      check: str(ext.check),
      field: str(ext.field),
      issues: Array.isArray(ext.issues) ? (ext.issues as UploadError['issues']) : undefined,
    };
  });
}

/** Sends the package; `onProgress(fraction)` while its bytes go up, then the promise waits for the checks. */
export async function uploadModelPackage(
  file: File,
  activate: boolean,
  onProgress: (fraction: number) => void,
): Promise<UploadResult> {
  const token = await freshAccessToken();
  const body = new FormData();
  body.append(
    'operations',
    JSON.stringify({ query: print(UploadModelPackageMutation), variables: { file: null, activate } }),
  );
  body.append('map', JSON.stringify({ 0: ['variables.file'] }));
  body.append('0', file, file.name);
  return new Promise((resolve) => {
    const fail = (message: string) => resolve({ ok: false, errors: [{ message, code: 'NETWORK_ERROR' }] });
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/graphql');
    // Apollo's CSRF prevention accepts multipart requests only with a non-simple header like this one.
    xhr.setRequestHeader('Apollo-Require-Preflight', 'true');
    xhr.setRequestHeader('Accept', 'application/graphql-response+json, application/json');
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let answer: { data?: AdminUploadModelPackageMutation | null; errors?: RawError[] };
      try {
        answer = JSON.parse(xhr.responseText) as typeof answer;
      } catch {
        return fail(`The server answered HTTP ${xhr.status} without a GraphQL result`);
      }
      const version = answer.data?.uploadModelPackage;
      if (version && !answer.errors?.length) resolve({ ok: true, version });
      else resolve({ ok: false, errors: toErrors(answer.errors ?? [{ message: 'The package was refused' }]) });
    };
    xhr.onerror = () => fail('The upload could not reach the server');
    xhr.send(body);
  });
}
