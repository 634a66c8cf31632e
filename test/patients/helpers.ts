import fs from 'node:fs';
import path from 'node:path';
import type { TestServer } from '../support/server';

export const FIXTURES = path.join(__dirname, '..', 'fixtures', 'images');
export const fixture = (name: string): Buffer => fs.readFileSync(path.join(FIXTURES, name));
export const JPEGS = ['ISIC_0000150.jpg', 'ISIC_0000151.jpg', 'ISIC_0000153.jpg'];

export interface UploadFile {
  name: string;
  data: Buffer;
  type?: string;
}

export const IMAGE_FIELDS =
  'id format mimeType byteSize width height orientation sha256 originalName createdAt patientId';

/** uploadImages as a GraphQL multipart request (the spec graphql-upload implements). */
export async function uploadImages(
  server: TestServer,
  token: string,
  vars: { patientId: string; lesionId?: string | null },
  files: UploadFile[],
  fields = IMAGE_FIELDS,
): Promise<{ status: number; data?: any; errors?: { message: string; extensions: Record<string, any> }[] }> {
  const form = new FormData();
  form.append(
    'operations',
    JSON.stringify({
      query: `mutation($patientId: ID!, $lesionId: ID, $files: [Upload!]!) { uploadImages(patientId: $patientId, lesionId: $lesionId, files: $files) { ${fields} } }`,
      variables: { ...vars, files: files.map(() => null) },
    }),
  );
  form.append('map', JSON.stringify(Object.fromEntries(files.map((_, i) => [String(i), [`variables.files.${i}`]]))));
  files.forEach((f, i) =>
    form.append(String(i), new Blob([f.data], { type: f.type ?? 'application/octet-stream' }), f.name),
  );
  const res = await fetch(server.url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' },
    body: form,
  });
  const body = (await res.json()) as any;
  return { status: res.status, ...body };
}

/** Rows and stored files, to prove a failure changed nothing. */
export async function snapshot(server: TestServer): Promise<Record<string, number>> {
  const em = server.services.db.orm.em.fork();
  const count = async (table: string) =>
    Number(((await em.execute(`select count(*)::int as n from ${table}`)) as { n: number }[])[0].n);
  return {
    patients: await count('patients'),
    lesions: await count('lesions'),
    images: await count('images'),
    patient_events: await count('patient_events'),
    patient_shares: await count('patient_shares'),
    // Uploads counted against the monthly quota: a refused upload counts none.
    uploads_counted: Number(
      ((await em.execute(`select coalesce(sum(uploads), 0)::int as n from prediction_usage`)) as { n: number }[])[0].n,
    ),
    files: await server.services.files.count(),
  };
}

export const PATIENT_FIELDS = 'id externalId displayName dateOfBirth sex notes archived createdAt updatedAt';

export async function createPatient(
  server: TestServer,
  token: string,
  input: Record<string, unknown> = {},
): Promise<string> {
  const res = await server.gql(
    `mutation($input: PatientInput!) { createPatient(input: $input) { id } }`,
    { input: { externalId: `MRN-${Math.random().toString(36).slice(2, 10)}`, displayName: 'Test Patient', ...input } },
    token,
  );
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return (res.data as any).createPatient.id;
}

export const errorCode = (res: { errors?: { extensions?: Record<string, any> }[] }): string | undefined =>
  res.errors?.[0]?.extensions?.code;
