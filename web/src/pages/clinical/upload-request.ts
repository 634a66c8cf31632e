// One GraphQL multipart request (uploadImages) per file over XMLHttpRequest: fetch has no upload progress,
// and one request per file gives each file its own progress bar and its own error, so one bad file does not
// take the others down with it (a multipart batch lands whole or not at all).
import { print, type DocumentNode } from 'graphql';
import type { ApiError } from '../../ui';

export interface GraphQLErrorLike {
  message: string;
  extensions?: { code?: string; field?: string; reason?: string; [key: string]: unknown };
}

export interface MultipartResult<T> {
  data?: T | null;
  errors?: GraphQLErrorLike[];
}

/** A raw answer's errors in the console's one shape (ApiError of the ui kit). */
export function rawErrors(errors: GraphQLErrorLike[] | undefined): ApiError[] {
  return (errors ?? []).map((e) => ({
    message: e.message,
    code: typeof e.extensions?.code === 'string' ? e.extensions.code : undefined,
    field: typeof e.extensions?.field === 'string' ? e.extensions.field : undefined,
    reason: typeof e.extensions?.reason === 'string' ? e.extensions.reason : undefined,
  }));
}

export interface MultipartOptions {
  url?: string;
  token?: string | null;
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

/**
 * Sends `document` with `variables`, where `fileVariable` (a list variable) receives `files`, as a GraphQL
 * multipart request (the spec's operations + map + files), and resolves with the GraphQL answer. A transport
 * failure (network, non-JSON answer) resolves as one error with code NETWORK_ERROR, so callers show one kind.
 */
export function sendMultipart<T>(
  document: DocumentNode,
  variables: Record<string, unknown>,
  fileVariable: string,
  files: File[],
  options: MultipartOptions = {},
): Promise<MultipartResult<T>> {
  const body = new FormData();
  body.append(
    'operations',
    JSON.stringify({ query: print(document), variables: { ...variables, [fileVariable]: files.map(() => null) } }),
  );
  const map: Record<string, string[]> = {};
  files.forEach((_, i) => (map[String(i)] = [`variables.${fileVariable}.${i}`]));
  body.append('map', JSON.stringify(map));
  files.forEach((file, i) => body.append(String(i), file, file.name));

  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    const fail = (message: string): void => resolve({ errors: [{ message, extensions: { code: 'NETWORK_ERROR' } }] });
    xhr.open('POST', options.url ?? '/graphql');
    // The server's CSRF prevention wants a non-simple header on multipart requests.
    xhr.setRequestHeader('Apollo-Require-Preflight', 'true');
    xhr.setRequestHeader('Accept', 'application/graphql-response+json, application/json');
    if (options.token) xhr.setRequestHeader('Authorization', `Bearer ${options.token}`);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) options.onProgress?.(e.loaded / e.total);
    };
    xhr.onload = () => {
      try {
        resolve(JSON.parse(xhr.responseText) as MultipartResult<T>);
      } catch {
        fail(`The server answered HTTP ${xhr.status} without a GraphQL result`);
      }
    };
    xhr.onerror = () => fail('The upload could not reach the server');
    xhr.onabort = () => fail('The upload was cancelled');
    options.signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(body);
  });
}
