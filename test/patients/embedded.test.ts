import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import { spawnServe, type ServeProcess } from '../../bench/serve-process';
import { seedEmbeddedDatabase } from '../support/embedded-template';
import { fixture, JPEGS } from './helpers';

/**
 * The same SQL (advisory locks, window functions, DISTINCT ON, UNION ALL) on the embedded PGlite that
 * `npm start` uses: patients, an all-or-nothing upload, signed thumbnails, the timeline.
 */
describe('patients and uploads in embedded mode (PGlite)', () => {
  let server: ServeProcess;
  let dataDir: string;
  let token: string;
  const gql = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as any;
  };
  const upload = async (patientId: string, files: { name: string; data: Buffer }[]) => {
    const form = new FormData();
    form.append(
      'operations',
      JSON.stringify({
        query:
          'mutation($p: ID!, $f: [Upload!]!) { uploadImages(patientId: $p, files: $f) { id thumb: url(variant: THUMBNAIL) } }',
        variables: { p: patientId, f: files.map(() => null) },
      }),
    );
    form.append('map', JSON.stringify(Object.fromEntries(files.map((_, i) => [String(i), [`variables.f.${i}`]]))));
    files.forEach((f, i) => form.append(String(i), new Blob([f.data]), f.name));
    return (await (
      await fetch(server.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' },
        body: form,
      })
    ).json()) as any;
  };

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dg-embedded-patients-'));
    await seedEmbeddedDatabase(dataDir);
    server = await spawnServe(
      {
        DATA_DIR: dataDir,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        ALLOW_UNVERIFIED_LOGIN: '1',
        PUBLIC_URL: 'http://127.0.0.1:4000',
      },
      120_000,
    );
    await gql(
      'mutation { register(input: { email: "embedded@example.org", password: "seborrheic keratosis 7" }) { id } }',
    );
    token = (
      await gql('mutation { login(email: "embedded@example.org", password: "seborrheic keratosis 7") { accessToken } }')
    ).data.login.accessToken;
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('works end to end', async () => {
    const pid = (await gql('mutation { createPatient(input: { externalId: "E-1", displayName: "Embedded" }) { id } }'))
      .data.createPatient.id;
    const ok = await upload(
      pid,
      JPEGS.slice(0, 2).map((n) => ({ name: n, data: fixture(n) })),
    );
    expect(ok.errors).toBeUndefined();
    const thumb = await fetch(
      ok.data.uploadImages[0].thumb.replace('http://127.0.0.1:4000', new URL(server.url).origin),
    );
    expect([thumb.status, thumb.headers.get('content-type')]).toEqual([200, 'image/jpeg']);
    const bad = await upload(pid, [
      { name: 'c.jpg', data: fixture(JPEGS[2]) },
      { name: 'x.jpg', data: Buffer.from('not an image') },
    ]);
    expect(bad.errors[0].extensions.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const page = await gql(
      '{ patients(first: 10) { edges { node { imageCount images(first: 5) { edges { node { id } } } latestPrediction { id } timeline { edges { node { __typename } } } } } } }',
    );
    expect(page.errors).toBeUndefined();
    const node = page.data.patients.edges[0].node;
    expect(node.imageCount).toBe(2);
    expect(node.images.edges).toHaveLength(2);
    expect(node.timeline.edges.map((e: any) => e.node.__typename)).toEqual([
      'ImageUploadedEvent',
      'ImageUploadedEvent',
      'PatientCreatedEvent',
    ]);
    // Only the two images' originals, and the derived copies of the one whose thumbnail was fetched.
    const walk = async (d: string): Promise<number> => {
      let n = 0;
      for (const e of await fs.readdir(d, { withFileTypes: true }))
        n += e.isDirectory() ? await walk(path.join(d, e.name)) : 1;
      return n;
    };
    expect(await walk(path.join(dataDir, 'files'))).toBe(4);
  });
});
