import type { Client } from 'graphql-ws';
import { InferenceJob, JobKind, Role } from '../../src/entities';
import { eventually } from '../support/poll';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { connectWs } from '../support/ws';
import { JOB_FIELDS, Q, seedImages } from './helpers';

/**
 * Over graphql-ws, a client that leaves releases the server's pub/sub subscription on the job's
 * channel at once: closing an `inferenceProgress` subscription of a job that never publishes again,
 * completing a `wait: true` mutation, or closing the socket while either is in flight.
 */
const CLASSIFY = `mutation($imageId: ID!, $wait: Boolean) { classifyImage(imageId: $imageId, wait: $wait) { ${JOB_FIELDS} } }`;

/** Starts an operation over `client`; `received` counts its results, `stop()` sends graphql-ws `complete`. */
function start(client: Client, query: string, variables: Record<string, unknown>) {
  const got = { received: 0, ended: false, stop: () => {} };
  got.stop = client.subscribe(
    { query, variables },
    {
      next: () => void got.received++,
      error: () => void (got.ended = true),
      complete: () => void (got.ended = true),
    },
  );
  return got;
}

/** A QUEUED job of `owner` that nothing will run: its channel never hears an event. */
async function idleJob(server: TestServer, owner: SignedInUser): Promise<string> {
  const em = server.services.db.orm.em.fork();
  const job = em.create(InferenceJob, { owner: owner.id, kind: JobKind.CLASSIFY, request: {} } as never);
  await em.flush();
  return job.id;
}

describe('with Redis (queue mode, no worker)', () => {
  let server: TestServer;
  let alice: SignedInUser;

  beforeAll(async () => {
    // A wait longer than any test: only the client leaving may end it.
    server = await startTestServer({ env: { JOB_MODE: 'queue', JOB_WAIT_TIMEOUT_MS: '600000' } });
    alice = await createSignedInUser(server, { role: Role.CLINICIAN });
  }, 120_000);
  afterAll(() => server?.close());

  /** Subscribers of the job's progress channel on Redis. */
  async function subscribers(jobId: string): Promise<number> {
    const channel = `${server.config.REDIS_PREFIX}INFERENCE_PROGRESS:${jobId}`;
    const [, n] = (await server.services.redis!.main.pubsub('NUMSUB', channel)) as [string, number];
    return Number(n);
  }

  /** The job a `wait: true` mutation made (newer than `before`), once the wait has subscribed to its channel. */
  async function subscribedWait(before: string | null): Promise<string> {
    const jobId = await eventually(
      async () => {
        const id = await newestJobId(server, alice);
        return id !== null && id !== before ? id : undefined;
      },
      { what: 'the job is recorded' },
    );
    await eventually(async () => (await subscribers(jobId)) === 1, { what: 'the wait subscribed' });
    return jobId;
  }

  /** A classifyImage that stays QUEUED (no worker): returns its id. */
  async function queuedJob(): Promise<string> {
    const [imageId] = await seedImages(server, alice.id, ['ISIC_0000150']);
    const r = await server.gql<any>(CLASSIFY, { imageId }, alice.token);
    expect(r.errors).toBeUndefined();
    expect(r.data.classifyImage.status).toBe('QUEUED');
    return r.data.classifyImage.id;
  }

  it('closing the inferenceProgress subscription of a queued job unsubscribes its channel', async () => {
    const jobId = await queuedJob();
    const client = await connectWs(server.url, alice.token);
    try {
      const sub = start(client, Q.progress, { jobId });
      await eventually(() => sub.received === 1, { what: 'the queued event is replayed' });
      await eventually(async () => (await subscribers(jobId)) === 1, { what: 'the stream subscribed' });
      sub.stop();
      await eventually(async () => (await subscribers(jobId)) === 0, {
        what: 'the subscription is released',
      });
      // The socket stays usable.
      const again = start(client, Q.progress, { jobId });
      await eventually(async () => (await subscribers(jobId)) === 1, { what: 'a second subscription' });
      again.stop();
      await eventually(async () => (await subscribers(jobId)) === 0, { what: 'released again' });
    } finally {
      await client.dispose();
    }
  }, 60_000);

  it('closing the socket releases the subscription of a job that never publishes', async () => {
    const jobId = await idleJob(server, alice);
    const client = await connectWs(server.url, alice.token);
    const sub = start(client, Q.progress, { jobId });
    await eventually(async () => (await subscribers(jobId)) === 1, { what: 'the stream subscribed' });
    expect(sub.received).toBe(0);
    await client.dispose();
    await eventually(async () => (await subscribers(jobId)) === 0, { what: 'the subscription is released' });
  }, 60_000);

  it('a wait: true mutation whose socket closes stops waiting and releases the channel', async () => {
    const [imageId] = await seedImages(server, alice.id, ['ISIC_0000151']);
    const before = await newestJobId(server, alice);
    const client = await connectWs(server.url, alice.token);
    const op = start(client, CLASSIFY, { imageId, wait: true });
    const jobId = await subscribedWait(before);
    await client.dispose();
    await eventually(async () => (await subscribers(jobId)) === 0, {
      what: 'the wait released its subscription',
    });
    expect(op.received).toBe(0);
  }, 60_000);

  it('a wait: true mutation the client completes (unsubscribes) stops waiting on an open socket', async () => {
    const [imageId] = await seedImages(server, alice.id, ['ISIC_0000153']);
    const before = await newestJobId(server, alice);
    const client = await connectWs(server.url, alice.token);
    try {
      const op = start(client, CLASSIFY, { imageId, wait: true });
      const jobId = await subscribedWait(before);
      op.stop();
      await eventually(async () => (await subscribers(jobId)) === 0, {
        what: 'the wait released its subscription',
      });
      // The same socket still answers.
      const r = await new Promise<any>((resolve, reject) =>
        client.subscribe(
          { query: Q.job, variables: { id: jobId } },
          { next: resolve, error: reject, complete: () => {} },
        ),
      );
      expect(r.data.job.status).toBe('QUEUED');
    } finally {
      await client.dispose();
    }
  }, 60_000);
});

describe('embedded (no Redis: in-memory pub/sub)', () => {
  let server: TestServer;
  let alice: SignedInUser;
  /** Every in-memory subscription made on a job's channel, to count those still listening. */
  const made = new Map<string, Array<{ done: boolean }>>();

  beforeAll(async () => {
    server = await startTestServer({ redis: false });
    alice = await createSignedInUser(server, { role: Role.CLINICIAN });
    const pubSub = server.services.pubSub;
    const subscribe = pubSub.subscribe.bind(pubSub);
    pubSub.subscribe = (topic: string, id?: unknown) => {
      const iterable = subscribe(topic, id);
      return {
        [Symbol.asyncIterator]: () => {
          const it = iterable[Symbol.asyncIterator]() as AsyncIterator<unknown> & { done: boolean };
          const key = `${topic}:${String(id)}`;
          made.set(key, [...(made.get(key) ?? []), it]);
          return it;
        },
      };
    };
  }, 120_000);
  afterAll(() => server?.close());

  /**
   * Listeners on the job's channel: an in-memory subscription is `done` exactly when it has taken
   * its listener off the channel (pubsub.ts Subscription.finish).
   */
  const listeners = (jobId: string) => (made.get(`INFERENCE_PROGRESS:${jobId}`) ?? []).filter((s) => !s.done).length;

  it('closing the inferenceProgress subscription of a job that never publishes removes its listener', async () => {
    const jobId = await idleJob(server, alice);
    const client = await connectWs(server.url, alice.token);
    try {
      const sub = start(client, Q.progress, { jobId });
      await eventually(() => listeners(jobId) === 1, { what: 'the stream listens' });
      sub.stop();
      await eventually(() => listeners(jobId) === 0, { what: 'the listener is removed' });
      expect(sub.received).toBe(0);
      const again = start(client, Q.progress, { jobId });
      await eventually(() => listeners(jobId) === 1, { what: 'listening again' });
      await client.dispose();
      await eventually(() => listeners(jobId) === 0, { what: 'the socket closed: removed again' });
      expect(again.received).toBe(0);
    } finally {
      await client.dispose();
    }
  }, 60_000);
});

async function newestJobId(server: TestServer, owner: SignedInUser): Promise<string | null> {
  const rows = (await server.services.db.orm.em
    .fork()
    .execute('select id from inference_jobs where owner_id = ? order by created_at desc limit 1', [
      owner.id,
    ])) as Array<{ id: string }>;
  return rows[0]?.id ?? null;
}
