import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Q as IQ } from '../inference/helpers';

/** GraphQL over HTTP for the topology test: JSON and multipart requests, sign-in, waiting for a job. */
export type Gql = {
  status: number;
  data?: any;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> & { code?: string } }>;
};

export async function gql(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<Gql> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...((await res.json()) as object) };
}

/** A GraphQL multipart request (graphql-upload's spec): `files` fill `variables.files` (or `variables.file` with `one`). */
export async function multipart(
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown>,
  files: string[],
  one = false,
  headers: Record<string, string> = {},
) {
  const form = new FormData();
  const slot = one ? null : files.map(() => null);
  form.append('operations', JSON.stringify({ query, variables: { ...variables, [one ? 'file' : 'files']: slot } }));
  form.append(
    'map',
    JSON.stringify(
      Object.fromEntries(files.map((_, i) => [String(i), [one ? 'variables.file' : `variables.files.${i}`]])),
    ),
  );
  for (const [i, f] of files.entries()) form.append(String(i), new Blob([await readFile(f)]), path.basename(f));
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true', ...headers },
    body: form,
  });
  return { status: res.status, headers: res.headers, ...((await res.json()) as object) } as Gql & { headers: Headers };
}

export const signIn = async (url: string, email: string, password: string) => {
  const r = await gql(url, 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }', {
    e: email,
    p: password,
  });
  expect(r.errors).toBeUndefined();
  return r.data.login.accessToken as string;
};

export const UPLOAD = `mutation($patientId: ID!, $files: [Upload!]!) { uploadImages(patientId: $patientId, files: $files) { id sha256 byteSize url } }`;

export async function waitJob(url: string, token: string, id: string, ms = 60_000): Promise<Record<string, any>> {
  const end = Date.now() + ms;
  for (;;) {
    const job = (await gql(url, IQ.job, { id }, token)).data?.job;
    if (job && ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.status)) return job;
    if (Date.now() > end) throw new Error(`job ${id} did not end: ${JSON.stringify(job)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
