import fs from 'node:fs/promises';
import { Client } from 'pg';
import { Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser } from '../support/users';
import { Q, seedImages } from './helpers';

let server: TestServer;
afterAll(async () => {
  await fs.rm(server?.dataDir ?? '/nonexistent', { recursive: true, force: true });
});

it('stop() drains a running job: it finishes and is stored before the process lets go of the database', async () => {
  server = await startTestServer({ env: { JOB_MODE: 'inline' } });
  const alice = await createSignedInUser(server, { role: Role.CLINICIAN });
  const names = ['ISIC_0000150', 'ISIC_0000151', 'ISIC_0000153', 'ISIC_0000154'];
  const imageIds = await seedImages(
    server,
    alice.id,
    Array.from({ length: 16 }, (_, i) => names[i % 4]),
  );
  const r = await server.gql<any>(
    Q.segment,
    { imageIds, members: [{ model: 'dg-seg-stats' }, { model: 'dg-seg-skin-distance' }] },
    alice.token,
  );
  const jobId = r.data.segmentImages.id;
  const events: string[] = [];
  const stream = server.services.inference.progress.stream(jobId);
  for await (const e of stream) {
    events.push(e.stage);
    if (e.stage === 'persisted') break;
  }
  await server.stop();
  const db = new Client({ connectionString: server.config.DATABASE_URL });
  await db.connect();
  try {
    const { rows } = await db.query(
      'select status, progress, jsonb_array_length(result_ids) as n from inference_jobs where id = $1',
      [jobId],
    );
    expect(rows[0]).toEqual({ status: 'SUCCEEDED', progress: 1, n: 16 });
    const seg = await db.query('select count(*)::int as n from segmentations where job_id = $1', [jobId]);
    expect(seg.rows[0].n).toBe(16);
  } finally {
    await db.end();
  }
}, 90_000);
