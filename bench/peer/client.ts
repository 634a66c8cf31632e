/**
 * The one load-generating client of every row: Node's fetch, with FormData for every image upload (to the
 * peer and to this server alike), so the client's own CPU per request is the same kind of work everywhere.
 */

/** Sends a request and returns its JSON body; a non-2xx answer or GraphQL errors throw (a bench must not count failures). */
export async function send(url: string, init: RequestInit): Promise<any> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${url}: HTTP ${res.status}, not JSON: ${text.slice(0, 300)}`);
  }
  if (!res.ok || body.errors) throw new Error(`${url}: HTTP ${res.status}: ${text.slice(0, 500)}`);
  return body;
}

/** A GraphQL request as JSON. */
export async function gql(url: string, query: string, variables: Record<string, unknown>, token?: string) {
  const body = await send(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return body.data;
}

const jpeg = (bytes: Buffer) => new Blob([bytes], { type: 'image/jpeg' });

/** The peer's form: one `file` field. */
export function peerForm(image: Buffer): FormData {
  const form = new FormData();
  form.append('file', jpeg(image), 'lesion.jpg');
  return form;
}

/** A GraphQL multipart request (operations, map, one part per file) with `files` as variables.f. */
export function graphqlForm(query: string, variables: Record<string, unknown>, files: Buffer[]): FormData {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query, variables: { ...variables, f: files.map(() => null) } }));
  form.append('map', JSON.stringify(Object.fromEntries(files.map((_, i) => [String(i), [`variables.f.${i}`]]))));
  files.forEach((f, i) => form.append(String(i), jpeg(f), `lesion-${i}.jpg`));
  return form;
}

/** POSTs a multipart form; GraphQL uploads need the preflight header (CSRF protection). */
export function postForm(url: string, form: FormData, token?: string): Promise<any> {
  const headers: Record<string, string> = token
    ? { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' }
    : {};
  return send(url, { method: 'POST', headers, body: form });
}
