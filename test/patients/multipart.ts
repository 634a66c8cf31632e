import type { TestServer } from '../support/server';

export interface UploadFile {
  name: string;
  data: Buffer;
  type?: string;
}

/**
 * Any operation as a GraphQL multipart request (the spec graphql-upload implements): `files`
 * fill `variables[filesVar]`, one per list item, as apollo-upload-client sends them.
 */
export async function multipart(
  server: TestServer,
  token: string,
  query: string,
  variables: Record<string, unknown>,
  files: UploadFile[],
  filesVar = 'files',
): Promise<{ status: number; data?: any; errors?: { message: string; extensions: Record<string, any> }[] }> {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query, variables: { ...variables, [filesVar]: files.map(() => null) } }));
  form.append(
    'map',
    JSON.stringify(Object.fromEntries(files.map((_, i) => [String(i), [`variables.${filesVar}.${i}`]]))),
  );
  files.forEach((f, i) =>
    form.append(String(i), new Blob([f.data], { type: f.type ?? 'application/octet-stream' }), f.name),
  );
  const res = await fetch(server.url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' },
    body: form,
  });
  return { status: res.status, ...((await res.json()) as object) };
}
