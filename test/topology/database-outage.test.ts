import { freePort } from '../../bench/free-port';
import { ConnectionException, DriverException } from '@mikro-orm/core';
import { Client } from 'pg';
import { TEST_PG_URL, TEST_REDIS_URL } from '../support/env';
import { isConnectionFailure } from '../../src/infra/database/connection-failure';
import { BullJobQueue, startBullWorker } from '../../src/modules/jobs/queue/bullmq-queue';
import type { JobAttempt, JobHandler } from '../../src/modules/jobs/queue/queue';
import { testRedisPrefix } from '../support/database';

/**
 * A PostgreSQL restart under load (the soak's postgres fault run, bench/soak): what tells a job's
 * attempt that the database was unreachable, and the BullMQ worker's answer to it (the job waits and
 * runs again without using an attempt; before, its retries were spent within the outage and its row
 * stayed QUEUED or RUNNING for good).
 */

/** The error node-postgres gives when nothing listens on the port. */
async function refusedError(): Promise<Error> {
  const port = await freePort(); // closed now, and not one the kernel hands to a new listener
  const c = new Client({ connectionString: `postgresql://postgres@127.0.0.1:${port}/postgres` });
  return c.connect().then(
    () => {
      throw new Error('connected to a closed port');
    },
    (e: Error) => e,
  );
}

/** The error of a query on a connection the server ended (pg_terminate_backend: 57P01, as at a fast shutdown). */
async function terminatedError(): Promise<Error> {
  const victim = new Client({ connectionString: TEST_PG_URL });
  const admin = new Client({ connectionString: TEST_PG_URL });
  await Promise.all([victim.connect(), admin.connect()]);
  victim.on('error', () => undefined);
  try {
    const pid = (await victim.query('select pg_backend_pid() pid')).rows[0].pid;
    const running = victim.query('select pg_sleep(5)').then(
      () => new Error('not terminated'),
      (e: Error) => e,
    );
    await new Promise((r) => setTimeout(r, 100));
    await admin.query('select pg_terminate_backend($1)', [pid]);
    return await running;
  } finally {
    await admin.end();
    await victim.end().catch(() => undefined);
  }
}

async function uniqueViolation(): Promise<Error> {
  const c = new Client({ connectionString: TEST_PG_URL });
  await c.connect();
  try {
    await c.query('create temp table t (id int primary key)');
    await c.query('insert into t values (1)');
    return await c.query('insert into t values (1)').then(
      () => new Error('no violation'),
      (e: Error) => e,
    );
  } finally {
    await c.end();
  }
}

describe('isConnectionFailure', () => {
  it('is true for a refused connection, as node-postgres raises it and as MikroORM wraps it', async () => {
    const refused = await refusedError();
    expect(isConnectionFailure(refused)).toBe(true);
    expect(isConnectionFailure(new ConnectionException(refused))).toBe(true);
    expect(isConnectionFailure(new Error('job failed', { cause: refused }))).toBe(true);
  });

  it('is true for a query cut by the server (57P01) and for a server shutting down (57P03)', async () => {
    const cut = await terminatedError();
    expect((cut as { code?: string }).code).toBe('57P01');
    expect(isConnectionFailure(cut)).toBe(true);
    expect(isConnectionFailure(new DriverException(cut))).toBe(true);
    expect(
      isConnectionFailure(Object.assign(new Error('the database system is shutting down'), { code: '57P03' })),
    ).toBe(true);
  });

  it('is false for errors about the work itself', async () => {
    const dup = await uniqueViolation();
    expect((dup as { code?: string }).code).toBe('23505');
    expect(isConnectionFailure(dup)).toBe(false);
    expect(isConnectionFailure(new DriverException(dup))).toBe(false);
    expect(isConnectionFailure(new Error('model output has the wrong shape'))).toBe(false);
    expect(isConnectionFailure(null)).toBe(false);
    expect(isConnectionFailure('ECONNREFUSED')).toBe(false);
  });
});

/**
 * A queue and a worker of single-attempt jobs on the real Redis (a prefix of their own) running
 * `handler`; `onError` hears each failure and whether it was final. `stop` closes both.
 */
function singleAttemptQueue(handler: JobHandler, onError: (final: boolean) => void) {
  const prefix = testRedisPrefix();
  const retry = { attempts: 1, baseDelayMs: 10 };
  const connection = { url: TEST_REDIS_URL };
  const queue = new BullJobQueue({ connection, prefix, retry });
  const consumer = startBullWorker(handler, {
    connection,
    prefix,
    retry,
    concurrency: 1,
    lockMs: 5000,
    unavailableDelayMs: 50,
    onError: (_id, _e, final) => onError(final),
  });
  return { queue, stop: async () => (await consumer.close(), await queue.close()) };
}

describe('a BullMQ worker whose job finds the database unreachable', () => {
  it('runs the job again later without using one of its attempts (a single-attempt job survives the outage)', async () => {
    const seen: JobAttempt[] = [];
    const errors: boolean[] = [];
    let outage = 2; // the first two tries meet a refused connection, as during a PostgreSQL restart
    let done!: () => void;
    const succeeded = new Promise<void>((r) => (done = r));
    const { queue, stop } = singleAttemptQueue(
      async (a) => {
        seen.push(a);
        if (outage-- > 0) throw new ConnectionException(await refusedError());
        done();
      },
      (final) => errors.push(final),
    );
    try {
      await queue.enqueue('job-outage');
      await succeeded;
      // Three runs, each the first and only attempt: the refusals were not counted as failures.
      expect(seen).toEqual([
        { jobId: 'job-outage', attempt: 1, final: true },
        { jobId: 'job-outage', attempt: 1, final: true },
        { jobId: 'job-outage', attempt: 1, final: true },
      ]);
      expect(errors).toEqual([false, false]);
    } finally {
      await stop();
    }
  });

  it('still fails a job at once on any other error of its last attempt', async () => {
    const seen: JobAttempt[] = [];
    let failed!: (final: boolean) => void;
    const final = new Promise<boolean>((r) => (failed = r));
    const { queue, stop } = singleAttemptQueue(async (a) => {
      seen.push(a);
      throw new Error('model output has the wrong shape');
    }, failed);
    try {
      await queue.enqueue('job-broken');
      expect(await final).toBe(true);
      await new Promise((r) => setTimeout(r, 300));
      expect(seen).toHaveLength(1);
    } finally {
      await stop();
    }
  });
});
