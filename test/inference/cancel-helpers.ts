import type { TestServer } from '../support/server';
import type { SignedInUser } from '../support/users';
import { JOB_FIELDS, Q, seedImages, type ProgressStream } from './helpers';

export const CANCEL = `mutation($id: ID!) { cancelJob(id: $id) { ${JOB_FIELDS} } }`;

const NAMES = ['ISIC_0000150', 'ISIC_0000151', 'ISIC_0000153', 'ISIC_0000154'];

/** Queues a segmentation (two members) of `n` fresh images of `user`'s; returns the job id. */
export async function segmentMany(server: TestServer, user: SignedInUser, n: number): Promise<string> {
  const imageIds = await seedImages(
    server,
    user.id,
    Array.from({ length: n }, (_, i) => NAMES[i % NAMES.length]),
  );
  const r = await server.gql<any>(
    Q.segment,
    { imageIds, members: [{ model: 'dg-seg-stats' }, { model: 'dg-seg-skin-distance' }] },
    user.token,
  );
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data.segmentImages.id;
}

/** Resolves once the stream has seen `n` results persisted. */
export async function untilPersisted(stream: ProgressStream, n: number): Promise<void> {
  let ended = false;
  void stream.done.then(() => (ended = true));
  while (stream.events.filter((e) => e.stage === 'PERSISTED').length < n) {
    if (ended) throw new Error(`the job ended before ${n} results: ${JSON.stringify(stream.events.at(-1))}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Ids of the segmentations stored for the job (whatever the job row says). */
export async function jobRows(server: TestServer, jobId: string): Promise<string[]> {
  const rows = (await server.services.db.orm.em
    .fork()
    .getConnection()
    .execute('select id from segmentations where job_id = ?', [jobId])) as Array<{ id: string }>;
  return rows.map((r) => r.id);
}
