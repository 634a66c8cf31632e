import { JobStatus, InferenceJob } from '../../../entities';
import { createPubSub } from '../../../infra/messaging/pubsub';
import { PROGRESS_TOPIC } from '../progress';
import { waitForJob } from './job-wait';

/** A queued job as the request that recorded it holds it. */
function queuedJob(id: string): InferenceJob {
  return Object.assign(new InferenceJob(), { id, status: JobStatus.QUEUED, stage: 'queued' });
}

/** waitForJob on the in-process pub/sub, counting the rows it reads; `done` is published once it listens. */
async function waitThroughDone(readBack: boolean | undefined) {
  const pubSub = createPubSub();
  let reads = 0;
  const job = queuedJob('7f1d2c3b-0000-4000-8000-000000000001');
  const row = Object.assign(queuedJob(job.id), { status: JobStatus.SUCCEEDED, stage: 'done', progress: 1 });
  const waiting = waitForJob(
    {
      pubSub,
      reread: async () => {
        reads++;
        return row;
      },
      history: async () => [],
    },
    job,
    { deadline: Date.now() + 10_000, readBack },
  );
  await new Promise((r) => setTimeout(r, 20)); // subscribed
  pubSub.publish(PROGRESS_TOPIC, job.id, { jobId: job.id, stage: 'done', status: JobStatus.SUCCEEDED });
  return { answer: await waiting, reads, job };
}

describe('waitForJob', () => {
  it('reads the row again once an event says the job ended, and answers the row', async () => {
    const { answer, reads } = await waitThroughDone(undefined);
    expect(reads).toBe(1);
    expect(answer).toMatchObject({ status: JobStatus.SUCCEEDED, progress: 1 });
  });

  it('with readBack false, the end event alone ends the wait: no read, the job with the event’s status and stage', async () => {
    const { answer, reads, job } = await waitThroughDone(false);
    expect(reads).toBe(0);
    expect(answer).toBeInstanceOf(InferenceJob);
    expect(answer).toMatchObject({ id: job.id, status: JobStatus.SUCCEEDED, stage: 'done' });
    expect(job.status).toBe(JobStatus.QUEUED); // the caller's object is not changed under it
  });
});
